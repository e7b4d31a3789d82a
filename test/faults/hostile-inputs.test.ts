/**
 * Inputs built to exhaust revwatch: oversized CCADB reports, a crt.sh JSON
 * of 130,000 rows none of which is found, a 1.2 MB certificate with 50,000
 * SANs, and `inspect crl /dev/zero`. Each is refused with one line (or the
 * bad rows skipped with their line), never exit 70, and leaves nothing
 * half-written. The CLI's run() in-process, the embedded store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { COLUMNS, MAX_PARTITIONED_CRLS } from '../../src/ccadb/report.js';

const DAY = 86_400_000;

const cli = (argv: string[]): Promise<CliResult> => runCli(argv);

const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
const csv = (rows: string[][]): string => `${rows.map((r) => r.map(quote).join(',')).join('\r\n')}\r\n`;
const header = [COLUMNS.owner, COLUMNS.name, COLUMNS.sha256, COLUMNS.subjectKeyId, COLUMNS.fullCrl, COLUMNS.partitioned];
const honestRow = (i: number): string[] => [
  'Owner',
  `CA ${i}`,
  (i + 1).toString(16).padStart(64, '0'),
  'AQI=',
  `http://crl.example/${i}.crl`,
  '',
];

describe('hostile inputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-hostile-inputs-'));
  const home = join(dir, 'home');
  const base = ['--home', home];
  let ca: LocalCa;

  beforeAll(async () => {
    const now = Date.now();
    ca = await LocalCa.create({ name: 'Hostile Inputs Test CA', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
    writeFileSync(join(dir, 'ca.der'), ca.info.der);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports a CCADB report around a CA with 20,000 partitioned CRLs and a 20 MB cell, naming both lines', async () => {
    const shards = JSON.stringify(Array.from({ length: 20_000 }, (_, j) => `http://crl.example/shard-${j}.crl`));
    const rows = [
      header,
      honestRow(0),
      ['Big', 'Many shards', 'ff'.repeat(32), 'AQM=', '', shards],
      honestRow(1),
      ['Big', 'Huge cell', 'ee'.repeat(32), 'AQQ=', `http://crl.example/${'a'.repeat(20 * 1024 * 1024)}.crl`, ''],
      honestRow(2),
    ];
    writeFileSync(join(dir, 'report.csv'), csv(rows));
    const r = await cli([...base, '--json', 'ccadb', 'import', join(dir, 'report.csv')]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { disclosures: number; skipped: { line: number; why: string }[] };
    expect(result.disclosures).toBe(3);
    expect(result.skipped.map((s) => s.line)).toEqual([3, 5]);
    expect(result.skipped[0]!.why).toContain(`lists 20000 partitioned CRLs, more than the ${MAX_PARTITIONED_CRLS}`);
    expect(result.skipped[1]!.why).toContain(`"${COLUMNS.fullCrl}" cell is longer than`);
  }, 120_000);

  it('refuses a crt.sh JSON of 130,000 rows none of which is found with one line, and writes nothing', async () => {
    const rows = Array.from({ length: 130_000 }, (_, i) => ({
      id: 1_000_000 + i,
      serial_number: (i + 1).toString(16),
      common_name: `a${i}.example`,
    }));
    writeFileSync(join(dir, 'crtsh.json'), JSON.stringify(rows));
    mkdirSync(join(dir, 'no-certs'), { recursive: true });
    const r = await cli([
      ...base,
      'track',
      `crtsh-json:${join(dir, 'crtsh.json')}`,
      '--certs-dir',
      join(dir, 'no-certs'),
      '--reported-at',
      new Date(Date.now() - DAY).toISOString(),
      '--reason',
      'key-compromise',
      '--case',
      'crtsh-none',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^revwatch: no certificates to track in .*crtsh\.json: all 130000 row\(s\) skipped, the first at line \d+: /);
    const status = await cli([...base, '--json', 'status', '--case', 'crtsh-none']);
    expect(status.code).toBe(1);
  }, 120_000);

  it('refuses a 1.2 MB certificate with 50,000 SANs with one line, and leaves no empty case behind', async () => {
    const now = Date.now();
    const leaf = await ca.issue({
      subject: 'CN=sans.example',
      notBefore: now - DAY,
      notAfter: now + 60 * DAY,
      crlUrls: ['http://crl.example/sans.crl'],
      dnsNames: Array.from({ length: 50_000 }, (_, i) => `host-${i}.sans.example`),
    });
    expect(leaf.info.der.length).toBeGreaterThan(1_000_000);
    writeFileSync(join(dir, 'sans.der'), leaf.info.der);
    const r = await cli([
      ...base,
      'track',
      join(dir, 'sans.der'),
      '--issuer',
      join(dir, 'ca.der'),
      '--reported-at',
      new Date(now - DAY).toISOString(),
      '--reason',
      'key-compromise',
      '--case',
      'many-sans',
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/sans\.der: certificate \w+ is \d+ bytes, more than the 262144 revwatch tracks/);
    const status = await cli([...base, '--json', 'status', '--case', 'many-sans']);
    expect(status.code, 'the case must not exist').toBe(1);
    expect(status.stderr).toMatch(/many-sans/);
  }, 120_000);

  it('refuses `inspect crl /dev/zero` at its first bytes, with bounded memory', async () => {
    const before = process.memoryUsage.rss();
    const started = Date.now();
    const r = await cli(['inspect', 'crl', '/dev/zero']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('revwatch: CRL /dev/zero: neither DER (it does not start with a SEQUENCE) nor PEM text (byte 0 is NUL)');
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(process.memoryUsage.rss() - before).toBeLessThan(64 * 1024 * 1024);
  });
});
