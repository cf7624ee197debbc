// npm run generate -- <url-or-file>: writes src/schema.d.ts from Kindred's OpenAPI document,
// and the document itself to openapi.json (so a review shows the API change at its source).
import { writeFile } from 'node:fs/promises';
import { DOCUMENT_FILE, loadDocument, renderTypes, SCHEMA_FILE } from './schema-source.mjs';

const source = process.argv[2] ?? process.env.KINDRED_URL;
if (!source) {
  console.error('usage: npm run generate -- <server URL | openapi.json URL | file> (or set KINDRED_URL)');
  process.exit(2);
}
const document = await loadDocument(source);
await writeFile(SCHEMA_FILE, await renderTypes(document));
await writeFile(DOCUMENT_FILE, `${JSON.stringify(document, null, 2)}\n`);
console.log(`src/schema.d.ts and openapi.json written from ${source} (OpenAPI ${document.openapi}, ${Object.keys(document.paths ?? {}).length} paths)`);
