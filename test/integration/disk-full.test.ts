/**
 * A full disk during `check` (issue 23 §4): one line, exit 2, nothing half-written kept, and a re-run once space
 * is freed completes the work with every kept CRL whole. The home is a small tmpfs mounted in a mount namespace
 * of its own (`unshare -m`; skipped with the reason where that is unavailable), filled to a chosen margin:
 * - a 2.2 MB CRL that does not fit (its copy into <home>/crls fails);
 * - 128 KiB free: LevelDB opens, then fails to append the run's 300 observations to its log (dynalite threw that
 *   error where nothing caught it: the store's thread died, exit 70);
 * - 16 KiB free: LevelDB cannot even open (it writes a new MANIFEST), which was reported as a damaged store.
 * The CRL server runs in this process on 127.0.0.1; the CLI runs in the namespace, on the same network.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCa } from '../../src/local-ca/ca.js';

const BIN = join(__dirname, '../..', 'bin/revwatch.js');
const DAY = 86_400_000;

const probe = spawnSync(
  'unshare',
  ['-m', 'sh', '-c', 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d"; s=$?; rmdir "$d"; exit $s'],
  { encoding: 'utf8' },
);
const canMount = probe.status === 0;
if (!canMount)
  console.warn(`disk-full: skipped, cannot mount a tmpfs in a mount namespace (${(probe.stderr || probe.error?.message || '').trim()})`);

/**
 * Runs `script` with sh in a mount namespace of its own; $1 is the built CLI, $2 the fixtures directory. Each
 * command's exit code, stdout and stderr go to files under $2/out (outside the tmpfs), read back by `result`.
 */
function inNamespace(script: string, dir: string): Promise<number | null> {
  const prelude = `
    run() { name=$1; shift; node "$BIN" "$@" > "$DIR/out/$name.stdout" 2> "$DIR/out/$name.stderr"; echo $? > "$DIR/out/$name.code"; true; }
    fill() { avail=$(df -k --output=avail "$1" | tail -1); dd if=/dev/zero of="$1/filler" bs=1k count=$((avail - $2)) 2>/dev/null; }
    leftovers() { find "$1" \\( -name '*.partial' -o -name '*.tmp' -o -name '*.partial.*' \\) > "$DIR/out/$2.leftovers"; }
  `;
  const child = spawn('unshare', ['-m', 'sh', '-c', `BIN="$1"; DIR="$2"; ${prelude}\n${script}`, 'sh', BIN, dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0) console.error(stderr);
      resolve(code);
    }),
  );
}

const result = (dir: string, name: string) => ({
  code: Number(readFileSync(join(dir, 'out', `${name}.code`), 'utf8')),
  stdout: readFileSync(join(dir, 'out', `${name}.stdout`), 'utf8'),
  stderr: readFileSync(join(dir, 'out', `${name}.stderr`), 'utf8').replace(
    /^\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?to show where the warning was created\)\n/,
    '',
  ),
});

describe.runIf(canMount)('check on a full disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-disk-full-'));
  const now = Date.now();
  let server: Server;
  let bigCrl: Buffer;
  let smallCrl: Buffer;

  beforeAll(async () => {
    const ca = await LocalCa.create({ name: 'Full Disk CA', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/pkix-crl' });
      res.end(req.url === '/big.crl' ? bigCrl : smallCrl);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    mkdirSync(join(dir, 'out'));
    mkdirSync(join(dir, 'many'));
    writeFileSync(join(dir, 'ca.der'), ca.info.der);
    const big = await ca.issue({
      subject: 'CN=big.example',
      notBefore: now - 5 * DAY,
      notAfter: now + 60 * DAY,
      crlUrls: [`${base}/big.crl`],
    });
    writeFileSync(join(dir, 'big.der'), big.info.der);
    for (let i = 0; i < 300; i++) {
      const leaf = await ca.issue({
        subject: `CN=c${i}.example`,
        notBefore: now - 5 * DAY,
        notAfter: now + 60 * DAY,
        crlUrls: [`${base}/small.crl`],
      });
      writeFileSync(join(dir, 'many', `${i}.der`), leaf.info.der);
    }
    const entries = Array.from({ length: 60_000 }, (_, i) => ({
      serial: (0x1000000 + i).toString(16),
      revocationDate: now - 2 * DAY,
      reasonCode: 1,
    }));
    bigCrl = ca.crl({ entries, thisUpdate: now - 60_000, nextUpdate: now + 7 * DAY, crlNumber: 1 });
    smallCrl = ca.crl({ entries: [], thisUpdate: now - 60_000, nextUpdate: now + 7 * DAY, crlNumber: 1 });
  }, 120_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  const track = (home: string, what: string) =>
    `run ${home}-track --home "$DIR/${home}" track "$DIR/${what}" --issuer "$DIR/ca.der" --case c --reported-at ${new Date(now - DAY).toISOString()} --reason key-compromise`;
  const check = (home: string, name: string) => `run ${name} --home "$DIR/${home}" --allow-private-network check`;

  it('a CRL that does not fit: one line, exit 2, no copy; after space is freed, a re-run keeps it whole', async () => {
    const code = await inNamespace(
      `
      mkdir "$DIR/h1"; mount -t tmpfs -o size=1m tmpfs "$DIR/h1"
      ${track('h1', 'big.der')}
      ${check('h1', 'h1-full')}
      leftovers "$DIR/h1" h1-full
      ls "$DIR/h1/crls" > "$DIR/out/h1-full.crls"
      mount -o remount,size=16m "$DIR/h1"
      ${check('h1', 'h1-again')}
      cp "$DIR"/h1/crls/*.crl "$DIR/out/"
      `,
      dir,
    );
    expect(code).toBe(0);
    expect(result(dir, 'h1-track').code).toBe(0);
    const full = result(dir, 'h1-full');
    expect(full.stderr).toMatch(
      /^revwatch: cannot keep the CRL [0-9a-f]{64} in .*\/h1\/crls: no space left on the device \(nothing half-written was kept\); free space and run the command again\n$/,
    );
    expect(full.code).toBe(2);
    expect(readFileSync(join(dir, 'out', 'h1-full.crls'), 'utf8')).toBe('');
    expect(readFileSync(join(dir, 'out', 'h1-full.leftovers'), 'utf8')).toBe('');
    const again = result(dir, 'h1-again');
    expect(again.code, again.stderr).toBe(0);
    const kept = readdirSync(join(dir, 'out')).filter((f) => f.endsWith('.crl'));
    expect(kept).toEqual([`${createHash('sha256').update(bigCrl).digest('hex')}.crl`]);
    expect(readFileSync(join(dir, 'out', kept[0]!)).equals(bigCrl)).toBe(true);
  }, 240_000);

  it.each([
    ['128 KiB free: the store fails to write the run', 128, /\d+\.log: No space left on device/],
    ['16 KiB free: the store cannot open', 16, /No space left on device/],
  ])(
    '%s: one line, exit 2; after space is freed, a re-run records every certificate',
    async (_what, marginKib, leveldbSays) => {
      const h = `m${marginKib}`;
      const code = await inNamespace(
        `
      mkdir "$DIR/${h}"; mount -t tmpfs -o size=12m tmpfs "$DIR/${h}"
      ${track(h, 'many')}
      fill "$DIR/${h}" ${marginKib}
      ${check(h, `${h}-full`)}
      leftovers "$DIR/${h}" ${h}-full
      rm "$DIR/${h}/filler"
      ${check(h, `${h}-again`)}
      run ${h}-status --home "$DIR/${h}" --json status
      `,
        dir,
      );
      expect(code).toBe(0);
      expect(result(dir, `${h}-track`).code).toBe(0);
      const full = result(dir, `${h}-full`);
      expect(full.stderr).toMatch(
        new RegExp(
          `^revwatch: no space left on the device holding the store in .*/${h}/db \\(IO error: .+\\); free space and run the command again\\n$`,
        ),
      );
      expect(full.stderr).toMatch(leveldbSays);
      expect(full.code).toBe(2);
      expect(full.stdout).toBe('');
      expect(readFileSync(join(dir, 'out', `${h}-full.leftovers`), 'utf8')).toBe('');
      const again = result(dir, `${h}-again`);
      expect(again.code, again.stderr).toBe(0);
      const status = result(dir, `${h}-status`);
      expect(status.code, status.stderr).toBe(0);
      const certificates = (
        JSON.parse(status.stdout) as { cases: { certificates: { verdict: string; observations?: unknown }[] }[] }
      ).cases.flatMap((c) => c.certificates);
      expect(certificates).toHaveLength(300);
      // The CRL lists none of them and the case was reported a day ago: each is judged from its recorded answer.
      expect(new Set(certificates.map((c) => c.verdict))).toEqual(new Set(['overdue']));
    },
    240_000,
  );
});
