// npm run check-schema [-- <url-or-file>]: regenerates the types from a running server's
// OpenAPI document (KINDRED_URL, e.g. http://127.0.0.1:8080) and fails when they differ
// from the committed src/schema.d.ts, so the client cannot drift from the server.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { loadDocument, renderTypes, SCHEMA_FILE } from './schema-source.mjs';

/**
 * The changed lines between two texts, as hunks with `context` unchanged lines around each:
 * "-" lines only in `before`, "+" lines only in `after` (longest common subsequence).
 */
export function lineDiff(before, after, context = 2, maxLines = 80) {
  const a = before.split('\n');
  const b = after.split('\n');
  // Common head and tail first: the table below then covers only the changed middle.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const lcs = Array.from({ length: x.length + 1 }, () => new Uint32Array(y.length + 1));
  for (let i = x.length - 1; i >= 0; i--) {
    for (let j = y.length - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops = a.slice(0, head).map((line, i) => ({ op: ' ', line, at: i + 1 }));
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      ops.push({ op: ' ', line: x[i], at: head + i + 1 });
      i++;
      j++;
    } else if (i < x.length && (j === y.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ op: '-', line: x[i], at: head + i + 1 });
      i++;
    } else {
      ops.push({ op: '+', line: y[j], at: head + i + 1 });
      j++;
    }
  }
  for (let k = 0; k < tail; k++) ops.push({ op: ' ', line: a[a.length - tail + k], at: a.length - tail + k + 1 });

  const changed = ops.map((o, k) => (o.op === ' ' ? -1 : k)).filter((k) => k >= 0);
  const out = [];
  let shownUpTo = -1;
  for (const k of changed) {
    const from = Math.max(k - context, shownUpTo + 1);
    if (from > shownUpTo + 1 || shownUpTo < 0) out.push(`@@ line ${ops[from].at} @@`);
    for (let n = from; n <= Math.min(ops.length - 1, k + context); n++) {
      if (n <= shownUpTo) continue;
      // Context after a change ends where the next change's own context starts.
      if (n > k && ops[n].op !== ' ') break;
      out.push(`${ops[n].op} ${ops[n].line}`);
      shownUpTo = n;
    }
  }
  const more = out.length - maxLines;
  return more > 0 ? [...out.slice(0, maxLines), `… ${more} more lines`].join('\n') : out.join('\n');
}

export async function checkSchema(source) {
  const [committed, fresh] = await Promise.all([
    readFile(SCHEMA_FILE, 'utf8'),
    loadDocument(source).then(renderTypes),
  ]);
  return { same: committed === fresh, diff: committed === fresh ? '' : lineDiff(committed, fresh) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const source = process.argv[2] ?? process.env.KINDRED_URL;
  if (!source) {
    console.error('check-schema: set KINDRED_URL (e.g. http://127.0.0.1:8080) or pass the URL or file');
    process.exit(2);
  }
  let result;
  try {
    result = await checkSchema(source);
  } catch (error) {
    console.error(`check-schema: cannot read the OpenAPI document from ${source}: ${error.message}`);
    process.exit(2);
  }
  if (result.same) {
    console.log(`check-schema: src/schema.d.ts matches ${source}`);
  } else {
    console.error(`check-schema: src/schema.d.ts differs from the types of ${source}'s OpenAPI document.`);
    console.error('The server\'s API changed (or the committed file was edited). "-" is committed, "+" is the server:\n');
    console.error(result.diff);
    console.error(`\nRun \`npm run generate -- ${source}\`, then \`npm run build\`, review the client and commit.`);
    process.exit(1);
  }
}
