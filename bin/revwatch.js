#!/usr/bin/env node
// The revwatch command: runs the compiled CLI (built by `npm run build`, which `npm ci` runs through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('revwatch: not built yet: run `npm run build` (npm ci does it for you)\n');
  process.exit(1);
}
const { run, processIo } = await import(entry.href);
process.exitCode = await run(process.argv.slice(2), processIo());
