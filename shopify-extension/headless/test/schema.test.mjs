// The generated types: the committed file is what openapi-typescript makes of the committed
// document, and check-schema fails, saying what changed, when a server's document differs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DOCUMENT_FILE, documentLocation, renderTypes, SCHEMA_FILE } from '../scripts/schema-source.mjs';
import { mockKindred } from './mock-server.mjs';

const run = promisify(execFile);
const CHECK = fileURLToPath(new URL('../scripts/check-schema.mjs', import.meta.url));
const DIST_SCHEMA = fileURLToPath(new URL('../dist/schema.d.ts', import.meta.url));

const committedDocument = async () => JSON.parse(await readFile(DOCUMENT_FILE, 'utf8'));

async function checkSchema(url) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CHECK], { env: { ...process.env, KINDRED_URL: url } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

test('src/schema.d.ts is what openapi-typescript makes of openapi.json, and dist/ ships it', async () => {
  const committed = await readFile(SCHEMA_FILE, 'utf8');
  assert.equal(committed, await renderTypes(await committedDocument()), 'run `npm run generate -- openapi.json`');
  assert.equal(await readFile(DIST_SCHEMA, 'utf8'), committed, 'run `npm run build`');
});

test('where the document is read from', () => {
  assert.deepEqual(documentLocation('http://127.0.0.1:8080'), { url: 'http://127.0.0.1:8080/api/v1/openapi.json' });
  assert.deepEqual(documentLocation('http://127.0.0.1:8080/api/v1/'), { url: 'http://127.0.0.1:8080/api/v1/openapi.json' });
  assert.deepEqual(documentLocation('https://k.example.com/api/v1/openapi.json'), { url: 'https://k.example.com/api/v1/openapi.json' });
  assert.deepEqual(documentLocation('openapi.json'), { file: 'openapi.json' });
});

describe('check-schema against a server', () => {
  let document;
  let server;
  before(async () => {
    document = await committedDocument();
    server = await mockKindred({ 'GET /api/v1/openapi.json': () => ({ body: document }) });
  });
  after(() => server.close());

  test('passes when the server serves the document the types came from', async () => {
    const result = await checkSchema(server.url);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /src\/schema\.d\.ts matches/);
  });

  test('fails with the changed lines when the server renamed a field', async () => {
    const view = structuredClone(document);
    const schemas = view.components.schemas;
    const own = schemas.RecommendationView.allOf?.find((part) => part.properties) ?? schemas.RecommendationView;
    own.properties.why = own.properties.reason;
    delete own.properties.reason;
    own.required = own.required.map((name) => (name === 'reason' ? 'why' : name));
    document = view;
    const result = await checkSchema(server.url);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /differs from the types of .*OpenAPI document/);
    assert.match(result.stderr, /^- +reason: string;$/m);
    assert.match(result.stderr, /^\+ +why: string;$/m);
    assert.match(result.stderr, /npm run generate -- http:\/\/127\.0\.0\.1:\d+/);
  });

  test('says so when the server cannot be reached', async () => {
    const result = await checkSchema('http://127.0.0.1:9');
    assert.equal(result.code, 2);
    assert.match(result.stderr, /cannot read the OpenAPI document/);
  });
});
