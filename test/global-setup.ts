/**
 * The end-to-end tests spawn the built CLI (dist/): build it first, so that
 * `npm test` always exercises the current sources.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  execFileSync(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
