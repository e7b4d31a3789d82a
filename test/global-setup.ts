/**
 * The end-to-end tests spawn the built CLI (dist/): build it first, so that
 * `npm test` always exercises the current sources. Both the integration and
 * the functions projects name this file; the build runs once per vitest
 * process, whichever asks first.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const state = globalThis as { revwatchDistBuilt?: boolean };

export default function setup(): void {
  if (state.revwatchDistBuilt) return;
  execFileSync(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  state.revwatchDistBuilt = true;
}
