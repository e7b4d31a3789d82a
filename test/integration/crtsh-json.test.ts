/**
 * `track crtsh-json:<file>`: a crt.sh JSON search result of 500 rows, its
 * certificates in a --certs-dir (named by crt.sh id as PEM, DER or without
 * extension, or by SHA-256 fingerprint): every good row tracked, every bad
 * or repeated row reported with its line. Without --certs-dir the
 * certificates are downloaded by id from crt.sh (a local server here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { FaultServer } from '../helpers/fault-server.js';
import { toPem, type CertificateInfo } from '../../src/pki/certificate.js';
import { arrayElementOffsets } from '../../src/track/crtsh-json.js';

const NOW = Date.parse('2026-03-01T00:00:00Z');
const DAY = 86_400_000;
const GOOD = 495;

describe('track crtsh-json:<file>', { timeout: 180_000 }, () => {
  const home = mkdtempSync(join(tmpdir(), 'revwatch-crtsh-json-'));
  const clock = new FakeClock(NOW);
  const crtsh = new FaultServer();
  const certs: CertificateInfo[] = [];
  const certsDir = join(home, 'certs');
  const exportFile = join(home, 'export.json');
  const issuerFile = join(home, 'issuer.pem');
  const idOf = (i: number): number => 9_000_000_000 + i;
  /** Line of the file each row starts on (one row per line, after the opening bracket). */
  const lineOfRow = (i: number): number => i + 2;
  /** The bad rows: index in the file, the row, what its report must say. */
  let badRows: [number, unknown, RegExp][] = [];

  const cli = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await run(['--home', home, '--allow-private-network', ...argv], {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
      env: { REVWATCH_CRTSH_URL: crtsh.url('') },
      clock,
    });
    return { code, stdout, stderr };
  };

  const row = (c: CertificateInfo, id: number): Record<string, unknown> => ({
    issuer_ca_id: 7,
    issuer_name: 'CN=crt.sh JSON CA',
    common_name: c.subject,
    name_value: c.subject,
    id,
    entry_timestamp: '2026-02-27T00:00:00.000',
    not_before: new Date(c.notBefore).toISOString().slice(0, 19),
    not_after: new Date(c.notAfter).toISOString().slice(0, 19),
    // crt.sh writes serials as lowercase hex with their DER leading zero kept.
    serial_number: c.serial.length % 2 ? `0${c.serial}` : c.serial,
    result_count: 1,
  });

  beforeAll(async () => {
    const ca = await LocalCa.create({ name: 'crt.sh JSON CA', notBefore: NOW - 100 * DAY, notAfter: NOW + 400 * DAY });
    writeFileSync(issuerFile, toPem(ca.info.der));
    mkdirSync(certsDir, { recursive: true });
    for (let i = 0; i < GOOD + 1; i++) {
      const c = await ca.issue({
        subject: `CN=row${i}.example`,
        notBefore: NOW - DAY,
        notAfter: NOW + 90 * DAY,
        crlUrls: ['http://127.0.0.1:9/never-fetched.crl'],
      });
      certs.push(c.info);
    }
    // Four naming styles: by id as .pem, .der, bare DER; by SHA-256 fingerprint as PEM.
    for (let i = 0; i < GOOD; i++) {
      const c = certs[i]!;
      const style = i % 4;
      if (style === 0) writeFileSync(join(certsDir, `${idOf(i)}.pem`), toPem(c.der));
      else if (style === 1) writeFileSync(join(certsDir, `${idOf(i)}.der`), c.der);
      else if (style === 2) writeFileSync(join(certsDir, `${idOf(i)}`), c.der);
      else writeFileSync(join(certsDir, `${c.sha256}.pem`), toPem(c.der));
    }
    // The extra certificate: its file names an id whose row claims another serial.
    writeFileSync(join(certsDir, `${idOf(GOOD)}.pem`), toPem(certs[GOOD]!.der));

    const rows: unknown[] = certs.slice(0, GOOD).map((c, i) => row(c, idOf(i)));
    // Five bad rows, at known positions: 495 + 5 = 500 rows.
    badRows = [
      [10, { ...row(certs[0]!, 1), id: undefined }, /no crt\.sh "id"/],
      [100, row(certs[5]!, idOf(5)), new RegExp(`crt\\.sh id ${idOf(5)} repeats the row at line ${lineOfRow(5)}`)],
      [200, { ...row(certs[GOOD]!, idOf(GOOD)), serial_number: '0badbeef' }, /the certificate's serial is .*, the row says 0badbeef/],
      [300, row(certs[0]!, 12345), /crt\.sh id 12345: no file .* named 12345/],
      [400, { ...row(certs[1]!, idOf(777)), serial_number: 'xyz' }, /"serial_number" is not hexadecimal/],
    ];
    for (const [at, value] of badRows) rows.splice(at, 0, value);
    expect(rows).toHaveLength(500);
    writeFileSync(exportFile, `[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`);

    await crtsh
      .route('/', (req, res) => {
        const d = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('d'));
        const hit = certs[d - idOf(0)];
        res.statusCode = hit && d - idOf(0) < 3 ? 200 : 404;
        res.end(res.statusCode === 200 ? toPem(hit!.der) : 'not found');
      })
      .start();
  });

  afterAll(async () => {
    await crtsh.stop();
  });

  it('finds where each element of a JSON array starts, on one line or many', () => {
    const text = '[{"a":"x,]}"},\n  2 , [3,[4]],\n"s"]';
    expect(arrayElementOffsets(text).map((o) => text[o])).toEqual(['{', '2', '[', '"']);
    expect(arrayElementOffsets('[]')).toEqual([]);
  });

  it('500 rows with --certs-dir: every good row tracked, bad and repeated rows reported by line', async () => {
    const r = await cli(
      '--json',
      'track',
      `crtsh-json:${exportFile}`,
      '--certs-dir',
      certsDir,
      '--issuer',
      issuerFile,
      '--case',
      'crtsh-json',
      '--reported-at',
      '2026-02-28T00:00:00Z',
      '--reason',
      'misissuance',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { added: number; skipped: { file: string; line: number; why: string }[] };
    expect(out.added).toBe(GOOD);
    const bad = badRows;
    // Each bad row was spliced in at its final index: its line is that index + 2.
    expect(out.skipped.map((s) => s.line)).toEqual(bad.map(([at]) => at + 2));
    for (const [i, s] of out.skipped.entries()) expect(s.why).toMatch(bad[i]![2]);

    const status = await cli('--json', 'status', '--case', 'crtsh-json');
    const tracked = (JSON.parse(status.stdout) as { cases: { certificates: { sha256: string }[] }[] }).cases[0]!.certificates;
    expect(new Set(tracked.map((c) => c.sha256))).toEqual(new Set(certs.slice(0, GOOD).map((c) => c.sha256)));
  });

  it('the human output names each row not tracked with its line', async () => {
    const r = await cli(
      'track',
      `crtsh-json:${exportFile}`,
      '--certs-dir',
      certsDir,
      '--issuer',
      issuerFile,
      '--case',
      'crtsh-json',
      '--reported-at',
      '2026-02-28T00:00:00Z',
      '--reason',
      'misissuance',
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`case crtsh-json: 0 certificate(s) added, ${GOOD} already tracked`);
    expect(lines.slice(1)).toHaveLength(5);
    expect(lines[1]).toBe(`  ${exportFile} line 12: not tracked: no crt.sh "id" (a positive integer)`);
  });

  it('without --certs-dir, downloads each row by id from crt.sh and reports the ones it cannot get', async () => {
    const small = join(home, 'small.json');
    writeFileSync(small, JSON.stringify([0, 1, 2, 3].map((i) => row(certs[i]!, idOf(i)))));
    const r = await cli(
      '--json',
      'track',
      `crtsh-json:${small}`,
      '--issuer',
      issuerFile,
      '--case',
      'crtsh-download',
      '--reported-at',
      '2026-02-28T00:00:00Z',
      '--reason',
      'misissuance',
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { added: number; skipped: { line: number; why: string }[] };
    expect(out.added).toBe(3);
    expect(out.skipped).toEqual([
      { file: small, line: 1, why: expect.stringMatching(new RegExp(`crt\\.sh id ${idOf(3)}: could not download`)) },
    ]);
  });

  it('a file that is not a JSON array is refused with one line', async () => {
    const notArray = join(home, 'object.json');
    writeFileSync(notArray, '{"id": 1}');
    const r = await cli(
      'track',
      `crtsh-json:${notArray}`,
      '--issuer',
      issuerFile,
      '--reported-at',
      '2026-02-28T00:00:00Z',
      '--reason',
      'misissuance',
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`revwatch: ${notArray} is not a crt.sh JSON search result: expected an array of rows`);
  });
});
