/**
 * `track --appendix` and `report --format irg-csv` end to end: the built CLI,
 * a CCADB report built here disclosing one CA and its full CRL, the CRL made by
 * `openssl ca -gencrl` and served on 127.0.0.1, and a 2,000-row appendix in the
 * CCADB Incident Reporting Guidelines' columns built here:
 *
 * - rows for the disclosed CA, its name spelled three ways, some with a
 *   certificate SHA-256, some not; a seventh of their serials on the CRL;
 * - one row whose certificate is in --certs-dir (tracked from the certificate);
 * - rows repeating an (issuer, serial) read before;
 * - malformed rows (serial, times, fingerprint, issuer) and rows for a CA the
 *   CCADB does not disclose: reported by line, the rest tracked.
 *
 * Then `check` reads the disclosed CRL once for every row, `status` judges
 * them (revoked on time, pending; validity flagged as the appendix's), and the
 * IRG appendix written back has the eleven standard columns first and a row
 * per certificate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';
import { FaultServer } from '../helpers/fault-server.js';
import { readCertificates } from '../../src/pki/certificate.js';
import { parseCsv } from '../../src/ccadb/csv.js';
import { expectSchema } from '../helpers/json-schema.js';

const exec = promisify(execFile);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const run = opensslAvailable() ? describe : describe.skip;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** index.txt's UTCTime. */
const indexTime = (ms: number): string =>
  new Date(ms).toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z');

const IRG_STANDARD = [
  'Precertificate SHA-256 hash',
  'Certificate SHA-256 hash',
  'Subject',
  'Issuer',
  'Not before',
  'Not after',
  'Serial #',
  'dNSNames',
  'Is revoked?',
  'Revocation date',
  'Revocation reason',
];

interface StatusCert {
  serial: string;
  sha256: string;
  verdict: string;
  notBefore: string;
  notAfter: string;
  validityFrom?: string;
  revocationTime: string | null;
  sources: { kind: string; url: string; status: string; route: string | null }[];
}

run('track --appendix and report --format irg-csv against a real openssl CRL', { timeout: 300_000 }, () => {
  const http = new FaultServer();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-appendix-'));
  const work = mkdtempSync(join(tmpdir(), 'revwatch-appendix-in-'));
  const certsDir = join(work, 'certs');
  const now = Date.now();
  const reportedAt = Math.floor((now - 2 * HOUR) / 60_000) * 60_000;
  const revokedAt = Math.floor((now - HOUR) / 1000) * 1000;
  const notBefore = Math.floor((now - 30 * DAY) / 1000) * 1000;
  const notAfter = Math.floor((now + 60 * DAY) / 1000) * 1000;
  let ca: OpensslCa;
  let other: OpensslCa;
  let leaf: IssuedLeaf;
  let leafSha = '';
  let crl: Buffer = Buffer.alloc(0);
  let crlHits = 0;

  /** The appendix's rows for the disclosed CA: serial (hex, lower case) → revoked on the CRL. */
  const tracked = new Map<string, { revoked: boolean; sha256: string | null }>();
  const badLines: number[] = [];
  const undisclosedLines: number[] = [];
  let duplicates = 0;

  const cli = async (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const r = await exec('node', ['bin/revwatch.js', '--home', home, '--allow-private-network', ...args], {
        encoding: 'utf8',
        maxBuffer: 256 << 20,
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const csvLine = (cells: string[]): string => cells.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
  /** The dNSNames of a row, by its serial however it is written. */
  const dnsOf = (serial: string): string[] => {
    const name = `host-${serial.replace(/:/g, '').toLowerCase()}.example`;
    return [name, `www.${name}`];
  };
  const hex64 = (i: number): string => (i.toString(16).padStart(8, '0') + 'ab'.repeat(28)).slice(0, 64);

  beforeAll(async () => {
    await http.start();
    ca = new OpensslCa(http.url('/a'), 'Appendix Test CA').init('ec');
    ca.appendConfig('[bare_ext]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n');
    other = new OpensslCa(http.url('/o'), 'Undisclosed CA').init('ec');
    leaf = ca.issue('in-certs-dir', 'bare_ext');
    const leafInfo = readCertificates(readFileSync(leaf.pemPath), 'leaf')[0]!;
    leafSha = leafInfo.sha256;
    mkdirSync(certsDir);
    writeFileSync(join(certsDir, `${leafSha}.pem`), readFileSync(leaf.pemPath));
    ca.revoke(leaf, revokedAt, 'keyCompromise');

    // The appendix: header (the IRG columns and one of the CA's own), then 2,000 rows.
    const lines: string[] = [csvLine([...IRG_STANDARD, 'Internal ticket'])];
    const issuerSpellings = ['CN=Appendix Test CA', '/CN=Appendix Test CA', 'commonName = appendix  test ca'];
    const rowFor = (serial: string, issuer: string, certSha: string, extra = ''): string[] => [
      '',
      certSha,
      `CN=${dnsOf(serial)[0]}`,
      issuer,
      iso(notBefore),
      iso(notAfter),
      serial,
      dnsOf(serial).join(' '),
      'Planned',
      'N/A',
      'N/A',
      extra,
    ];
    const revokedIndex: string[] = [];
    const lineNo = (): number => lines.length + 1;
    // 1,959 distinct serials for the disclosed CA; every seventh revoked; every fifth with a certificate SHA-256.
    for (let i = 0; i < 1959; i++) {
      const serialHex = (0x100000 + i).toString(16);
      const revoked = i % 7 === 0;
      const sha = i % 5 === 0 ? hex64(i) : null;
      tracked.set(serialHex, { revoked, sha256: sha });
      if (revoked)
        revokedIndex.push(
          `R\t${indexTime(notAfter)}\t${indexTime(revokedAt)},keyCompromise\t${serialHex.toUpperCase()}\tunknown\t/CN=host-${i}`,
        );
      // Serials written as CAs write them: upper case with colons, or plain.
      const written = i % 2 ? serialHex.toUpperCase().replace(/(..)(?!$)/g, '$1:') : serialHex;
      lines.push(csvLine(rowFor(written, issuerSpellings[i % 3]!, sha ?? '', `T-${i}`)));
    }
    // The certificate in --certs-dir, by its SHA-256.
    tracked.set(leaf.serialHex.toLowerCase(), { revoked: true, sha256: leafSha });
    lines.push(csvLine(rowFor(leaf.serialHex, 'CN=Appendix Test CA', leafSha)));
    // 20 rows repeating an (issuer, serial) already read, the issuer spelled otherwise.
    for (let i = 0; i < 20; i++) {
      lines.push(csvLine(rowFor((0x100000 + i * 3).toString(16), issuerSpellings[(i + 1) % 3]!, '')));
      duplicates++;
    }
    // 10 malformed rows.
    const malformed: string[][] = [
      rowFor('zz12', 'CN=Appendix Test CA', ''),
      rowFor('', 'CN=Appendix Test CA', ''),
      rowFor('0b0001', '', ''),
      rowFor('0b0002', 'CN=Appendix Test CA', 'not-a-sha'),
      [...rowFor('0b0003', 'CN=Appendix Test CA', '')].map((c, i) => (i === 4 ? 'yesterday' : c)),
      [...rowFor('0b0004', 'CN=Appendix Test CA', '')].map((c, i) => (i === 5 ? '' : c)),
      [...rowFor('0b0005', 'CN=Appendix Test CA', '')].map((c, i) => (i === 5 ? iso(notBefore - DAY) : c)),
      rowFor('0b0006', 'CN=Appendix Test CA', 'ab'.repeat(31)),
      rowFor('-0b0007', 'CN=Appendix Test CA', ''),
      rowFor('0b0008', 'CN=Appendix Test CA, O=Not This One', ''),
    ];
    for (const m of malformed) {
      badLines.push(lineNo());
      lines.push(csvLine(m));
    }
    // 10 rows for a CA the CCADB does not disclose.
    for (let i = 0; i < 10; i++) {
      undisclosedLines.push(lineNo());
      lines.push(csvLine(rowFor((0x120000 + i).toString(16), 'CN=Undisclosed CA', '')));
    }
    expect(lines.length - 1).toBe(2000);
    writeFileSync(join(work, 'appendix.csv'), `${lines.join('\r\n')}\r\n`);

    // The CRL: openssl ca -gencrl over index.txt with the appendix's revocations added.
    appendFileSync(ca.path('index.txt'), `${revokedIndex.join('\n')}\n`);
    crl = ca.crl(now - 60_000, now + 7 * DAY);
    http.route('/a/full.crl', (_req, res) => {
      crlHits++;
      res.end(crl);
    });

    // The CCADB report: the disclosed CA with its full CRL and PEM; the undisclosed one is not in it.
    const caInfo = readCertificates(readFileSync(ca.path('ca.pem')), 'ca')[0]!;
    const report = [
      [
        'CA Owner',
        'SHA-256 Fingerprint',
        'Revocation Status',
        'Certificate Name',
        'Subject Key Identifier',
        'Full CRL Issued By This CA',
        'JSON Array of Partitioned CRLs',
        'X.509 Certificate (PEM)',
      ],
      [
        'Appendix Owner',
        caInfo.sha256.toUpperCase(),
        '',
        'Appendix Test CA',
        Buffer.from(caInfo.subjectKeyId!, 'hex').toString('base64'),
        http.url('/a/full.crl'),
        '',
        readFileSync(ca.path('ca.pem'), 'utf8').replace(/\n/g, '\r\n'),
      ],
    ];
    writeFileSync(join(work, 'ccadb.csv'), `${report.map((r) => r.map((f) => `"${f.replace(/"/g, '""')}"`).join(',')).join('\r\n')}\r\n`);
    const imported = await cli('ccadb', 'import', join(work, 'ccadb.csv'));
    expect(imported.code, imported.stderr).toBe(0);
  }, 240_000);

  afterAll(async () => {
    await ca?.dispose();
    await other?.dispose();
    await http.stop();
  });

  const trackArgs = (): string[] => [
    'track',
    '--appendix',
    join(work, 'appendix.csv'),
    '--certs-dir',
    certsDir,
    '--case',
    'appendix',
    '--reported-at',
    iso(reportedAt),
    '--reason',
    'key-compromise',
  ];

  it('tracks every usable row once, and reports the malformed and undisclosed ones by line', async () => {
    const r = await cli('--json', ...trackArgs());
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      added: number;
      alreadyTracked: number;
      duplicates: number;
      fromCertificates: number;
      skipped: { file: string; line: number; why: string }[];
    };
    expectSchema('track', out);
    expect(out.added).toBe(tracked.size);
    expect(out).toMatchObject({ alreadyTracked: 0, duplicates, fromCertificates: 1 });
    expect(out.skipped.map((s) => s.line)).toEqual([...badLines, ...undisclosedLines]);
    const why = (line: number) => out.skipped.find((s) => s.line === line)!.why;
    expect(why(badLines[0]!)).toMatch(/Serial # "zz12" is not a hexadecimal serial number/);
    expect(why(badLines[4]!)).toMatch(/Not before "yesterday" is not a time/);
    expect(why(badLines[6]!)).toMatch(/Not after is before Not before/);
    expect(why(badLines[9]!)).toMatch(/issuer "CN=Appendix Test CA, O=Not This One" is neither among/);
    for (const line of undisclosedLines) expect(why(line)).toMatch(/issuer "CN=Undisclosed CA" is neither among the 1 CA certificate/);

    // The same appendix again: nothing new.
    const again = await cli('--json', ...trackArgs());
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ added: 0, alreadyTracked: tracked.size });
  });

  it('a file without the IRG columns is refused with one line, and nothing is written', async () => {
    writeFileSync(join(work, 'not-appendix.csv'), 'serial,name\r\n0a,x\r\n');
    const r = await cli(
      'track',
      '--appendix',
      join(work, 'not-appendix.csv'),
      '--reported-at',
      iso(reportedAt),
      '--reason',
      'key-compromise',
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `revwatch: ${join(work, 'not-appendix.csv')} is not an incident appendix: no "Issuer", "Not before", "Not after" column (it needs the CCADB Incident Reporting Guidelines' Issuer, Serial #, Not before and Not after)`,
    ]);
  });

  it('check reads the disclosed CRL once for every row; status judges each row from it', async () => {
    const r = await cli('--json', 'check');
    expect(r.code, r.stderr).toBe(0);
    expect(crlHits).toBe(1);
    const status = await cli('--json', 'status', '--case', 'appendix');
    expect(status.code, status.stderr).toBe(0);
    expectSchema('status', JSON.parse(status.stdout));
    const certs = (JSON.parse(status.stdout) as { cases: { certificates: StatusCert[] }[] }).cases[0]!.certificates;
    expect(certs).toHaveLength(tracked.size);
    for (const c of certs) {
      const row = tracked.get(c.serial)!;
      expect(row, c.serial).toBeDefined();
      expect(c.verdict, c.serial).toBe(row.revoked ? 'revoked_on_time' : 'pending');
      if (row.revoked) expect(c.revocationTime).toBe(iso(revokedAt));
      expect(c.sources.map((s) => [s.kind, s.url, s.route])).toEqual([['crl', http.url('/a/full.crl'), 'ccadb']]);
      if (c.serial === leaf.serialHex.toLowerCase()) {
        // Tracked from the certificate itself: its own validity, not flagged.
        expect(c.sha256).toBe(leafSha);
        expect(c.validityFrom).toBeUndefined();
      } else {
        expect(c.validityFrom).toBe('appendix');
        expect(c.notBefore).toBe(iso(notBefore));
        expect(c.notAfter).toBe(iso(notAfter));
        if (row.sha256) expect(c.sha256).toBe(row.sha256);
      }
    }
    const text = await cli('status', '--case', 'appendix');
    expect(text.stdout).toContain("validity from the CA's appendix, not from the certificate");
    // The JSON report: the flag on each appendix row, crt.sh searched by serial where the row gave no fingerprint.
    const json = await cli('report', '--case', 'appendix', '--format', 'json');
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { certificates: (StatusCert & { crtshUrl: string })[] };
    expectSchema('report', report);
    const noFingerprint = report.certificates.find((c) => c.validityFrom === 'appendix' && !tracked.get(c.serial)!.sha256)!;
    expect(noFingerprint.crtshUrl).toBe(`https://crt.sh/?serial=${noFingerprint.serial}`);
    // The markdown appendix says it too.
    const md = await cli('report', '--case', 'appendix');
    expect(md.stdout).toContain("pending (validity from the CA's appendix, not from the certificate)");
  });

  it('report --format irg-csv: the eleven standard headers first and in order, a row per certificate', async () => {
    const out = join(work, 'irg.csv');
    const r = await cli('report', '--case', 'appendix', '--format', 'irg-csv', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const records = parseCsv(readFileSync(out, 'utf8'));
    const header = records[0]!.fields;
    expect(header.slice(0, 11)).toEqual(IRG_STANDARD);
    const rows = records.slice(1).map((rec) => Object.fromEntries(rec.fields.map((v, i) => [header[i]!, v])));
    expect(rows).toHaveLength(tracked.size);
    expect(new Set(rows.map((x) => x['Serial #'])).size).toBe(tracked.size);
    for (const row of rows) {
      const t = tracked.get(row['Serial #']!)!;
      expect(row['Is revoked?']).toBe(t.revoked ? 'Yes' : 'Planned');
      expect(row['Revocation date']).toBe(t.revoked ? iso(revokedAt) : iso(reportedAt + DAY));
      expect(row['Revocation reason']).toBe(t.revoked ? 'keyCompromise' : 'N/A');
      expect(row['Certificate SHA-256 hash']).toBe(t.sha256 ?? '');
      expect(row.Verdict).toBe(t.revoked ? 'revoked_on_time' : 'pending');
      expect(row['Validity from']).toBe(
        row['Serial #'] === leaf.serialHex.toLowerCase() ? 'certificate' : "validity from the CA's appendix, not from the certificate",
      );
      if (row['Serial #'] !== leaf.serialHex.toLowerCase()) expect(row.dNSNames).toBe(dnsOf(row['Serial #']!).join(' '));
    }
    // A case that does not exist: one line, exit 1, no file left behind.
    const missing = join(work, 'missing.csv');
    const refused = await cli('report', '--case', 'no-such-case', '--format', 'irg-csv', '--out', missing);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe('revwatch: no case "no-such-case"');
    expect(existsSync(missing)).toBe(false);
    // The same rows on stdout.
    const stdout = await cli('report', '--case', 'appendix', '--format', 'irg-csv');
    expect(stdout.stdout).toBe(readFileSync(out, 'utf8'));
  });
});
