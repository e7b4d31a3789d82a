#!/usr/bin/env node
// The revwatch command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The AWS SDK warns on Node 20 that releases after January 2027 will need
// Node 22; the lockfile pins the SDK, so the notice only adds noise to every command.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = (warning, ...rest) => {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0]?.type;
  if (type === 'NodeVersionSupportWarning' || String(warning?.name ?? warning).includes('NodeVersionSupportWarning')) return;
  emitWarning(warning, ...rest);
};

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('revwatch: not built yet: run `npm run build` (npm ci does it for you)\n');
  process.exit(1);
}
const { run, processIo } = await import(entry.href);
process.exitCode = await run(process.argv.slice(2), processIo());
