import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { prepareHome } from './check.js';
const w = await prepareHome(100);
const run = async (extra: string[]) => {
  const t = Date.now();
  const r = await promisify(execFile)(process.execPath, [...extra, 'bin/revwatch.js', '--home', w.home, '--allow-private-network', '--json', 'check'], { maxBuffer: 1 << 30 });
  console.error('check ms', Date.now() - t, JSON.parse(r.stdout).timings);
};
await run([]);
await run(['--cpu-prof', '--cpu-prof-dir=/tmp/prof2']);
console.error('home', w.home);
await w.stop();
