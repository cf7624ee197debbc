// Shopify's theme linter, with its theme app extension rules, over shopify-extension/theme/.
// Prints every offense and exits non-zero when one of them is an error.
//
//   node theme-check.mjs [path/to/extension]

import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Severity, themeCheckRun } from '@shopify/theme-check-node';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(process.argv[2] ?? path.join(here, '../../shopify-extension/theme'));
const CONFIG = 'theme-check:theme-app-extension';
const SEVERITY_NAMES = { [Severity.ERROR]: 'error', [Severity.WARNING]: 'warning', [Severity.INFO]: 'info' };

const { theme, offenses } = await themeCheckRun(root, CONFIG);

for (const offense of offenses) {
  const file = path.relative(root, fileURLToPath(offense.uri));
  const { line, character } = offense.start;
  console.log(
    `${file}:${line + 1}:${character + 1} ${SEVERITY_NAMES[offense.severity]} ${offense.check}: ${offense.message}`,
  );
}

const errors = offenses.filter((offense) => offense.severity === Severity.ERROR).length;
console.log(
  `theme-check (${CONFIG}): ${theme.length} files, ${errors} errors, ${offenses.length - errors} warnings and notes`,
);
process.exitCode = errors > 0 ? 1 : 0;
