#!/usr/bin/env node
// npm runs `prepare` after `npm ci` / `npm install` in the clone, before `npm pack`, and when a
// folder or git URL is installed. In a clone it builds dist/ with the TypeScript compiler (a
// devDependency). Where the sources or the compiler are absent (an unpacked tarball, which
// ships dist/ and not src/; an `npm ci --omit=dev` clone that was built before), it only checks
// that dist/ is there, so installing never needs a dev-only tool.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const built = existsSync(join(root, 'dist', 'cli', 'main.js'));
const hasSources = existsSync(join(root, 'src', 'cli', 'main.ts')) && existsSync(join(root, 'tsconfig.build.json'));

/** The compiler's entry point when TypeScript is installed, else undefined. */
function typescriptCompiler() {
  try {
    const manifest = createRequire(join(root, 'package.json')).resolve('typescript/package.json');
    const tsc = join(dirname(manifest), 'bin', 'tsc');
    return existsSync(tsc) ? tsc : undefined;
  } catch {
    return undefined;
  }
}

const tsc = hasSources ? typescriptCompiler() : undefined;
if (tsc) {
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit', cwd: root });
  process.exit(result.status ?? 1);
}
if (!built) {
  process.stderr.write(
    hasSources
      ? 'revwatch: cannot build dist/: TypeScript is not installed; run `npm ci` (with dev dependencies) in the clone first\n'
      : 'revwatch: this package has neither dist/ nor the sources to build it\n',
  );
  process.exit(1);
}
