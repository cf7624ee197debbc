// npm run build: dist/ from src/ (ESM and declarations), with the generated schema types
// the declarations import. dist/ is committed, so consumers need no build step.
import { spawnSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync(`${root}dist`, { recursive: true, force: true });
const { status } = spawnSync(process.execPath, [tsc, '-p', `${root}tsconfig.json`], { stdio: 'inherit' });
if (status !== 0) process.exit(status ?? 1);
copyFileSync(`${root}src/schema.d.ts`, `${root}dist/schema.d.ts`);
