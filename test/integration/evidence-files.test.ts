/**
 * The kept CRL copies (<home>/crls/<sha256>.crl) are written under a temporary
 * name, flushed and renamed: a disk that fills mid-copy leaves nothing under
 * the final name and no partial file, and says so in one line; a copy cut
 * short by an earlier revwatch (which wrote in place) is replaced.
 *
 * The full disk is a 64 KiB tmpfs mounted in a mount namespace of its own
 * (`unshare -m`, as root); skipped with the reason where that is unavailable.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { localEvidenceFiles } from '../../src/adapters/local/evidence-files.js';

const ROOT = join(__dirname, '../..');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const probe = spawnSync(
  'unshare',
  ['-m', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; s=$?; rmdir "$d"; exit $s'],
  {
    encoding: 'utf8',
  },
);
const canMount = probe.status === 0;
if (!canMount) {
  console.warn(
    `evidence-files: full-disk case skipped, cannot mount a tmpfs in a mount namespace (${(probe.stderr || probe.error?.message || '').trim()})`,
  );
}

describe('kept CRL copies', () => {
  const dirs: string[] = [];
  const newDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'revwatch-evidence-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('replaces a copy cut short, and keeps only complete copies under their hash', async () => {
    const home = newDir();
    const crl = randomBytes(100_000);
    mkdirSync(join(home, 'crls'));
    writeFileSync(join(home, 'crls', `${sha(crl)}.crl`), crl.subarray(0, 4096));
    const files = localEvidenceFiles(home);
    await files.saveCrl(sha(crl), crl);
    expect(sha(readFileSync(join(home, 'crls', `${sha(crl)}.crl`)))).toBe(sha(crl));
    expect(readdirSync(join(home, 'crls'))).toEqual([`${sha(crl)}.crl`]);
  });

  it("a copy killed with SIGKILL mid-write leaves nothing under the CRL's hash; the next copy is whole and the leftover is removed", async () => {
    const home = newDir();
    mkdirSync(join(home, 'crls'));
    const crlPath = join(home, 'big.crl');
    const crl = randomBytes(46 * 1024 * 1024);
    writeFileSync(crlPath, crl);
    const name = `${sha(crl)}.crl`;
    const script = join(home, 'save.mjs');
    writeFileSync(
      script,
      `
      import { readFileSync } from 'node:fs';
      import { createHash } from 'node:crypto';
      import { localEvidenceFiles } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/adapters/local/evidence-files.js')).href)};
      const bytes = readFileSync(process.argv[3]);
      process.stdout.write('ready\\n');
      await localEvidenceFiles(process.argv[2]).saveCrl(createHash('sha256').update(bytes).digest('hex'), bytes);
      `,
    );
    const child = spawn('node', [script, home, crlPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    // Killed as soon as the temporary copy exists: the 46 MB are being written and flushed.
    const seenPartial = await new Promise<boolean>((resolve) => {
      const poll = setInterval(() => {
        const names = readdirSync(join(home, 'crls'));
        if (names.some((n) => n.endsWith('.partial')) || names.includes(name)) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve(!names.includes(name));
        }
      }, 1);
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const afterKill = readdirSync(join(home, 'crls'));
    // Whenever the kill landed, a file under the CRL's hash is the whole CRL; killed mid-copy, there is none.
    if (afterKill.includes(name)) expect(sha(readFileSync(join(home, 'crls', name)))).toBe(sha(crl));
    else expect(afterKill.length > 0 && afterKill.every((n) => n.endsWith('.partial'))).toBe(seenPartial);
    await localEvidenceFiles(home).saveCrl(sha(crl), crl);
    expect(readdirSync(join(home, 'crls'))).toEqual([name]);
    expect(sha(readFileSync(join(home, 'crls', name)))).toBe(sha(crl));
  }, 120_000);

  it.runIf(canMount)(
    'on a full disk: one line saying so, and no file, final or partial, is left',
    () => {
      const dir = newDir();
      const home = join(dir, 'home');
      mkdirSync(home);
      const script = join(dir, 'save.mjs');
      writeFileSync(
        script,
        `
      import { readdirSync } from 'node:fs';
      import { randomBytes, createHash } from 'node:crypto';
      import { localEvidenceFiles } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/adapters/local/evidence-files.js')).href)};
      const home = process.argv[2];
      const files = localEvidenceFiles(home);
      const big = randomBytes(256 * 1024);
      let error = null;
      try {
        await files.saveCrl(createHash('sha256').update(big).digest('hex'), big);
      } catch (err) {
        error = err.name + ': ' + err.message;
      }
      const afterFull = readdirSync(home + '/crls');
      const small = randomBytes(8 * 1024);
      const smallSha = createHash('sha256').update(small).digest('hex');
      await files.saveCrl(smallSha, small);
      console.log(JSON.stringify({ error, afterFull, afterSmall: readdirSync(home + '/crls'), smallSha }));
      `,
      );
      const r = spawnSync(
        'unshare',
        ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$1" && exec node "$2" "$1"', 'sh', home, script],
        {
          encoding: 'utf8',
          timeout: 110_000,
        },
      );
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
        error: string;
        afterFull: string[];
        afterSmall: string[];
        smallSha: string;
      };
      expect(out.error).toMatch(
        /^NoSpaceError: cannot keep the CRL [0-9a-f]{64} in .*\/crls: no space left on the device \(nothing half-written was kept\); free space and run the command again$/,
      );
      expect(out.afterFull).toEqual([]);
      expect(out.afterSmall).toEqual([`${out.smallSha}.crl`]);
    },
    120_000,
  );
});
