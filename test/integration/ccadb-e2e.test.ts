/**
 * The CCADB disclosure as a source, end to end: the built CLI against real
 * `openssl ca -gencrl` CRLs on 127.0.0.1, with a CCADB "All Certificate
 * Records" report built here for three CAs whose certificates carry no CDP
 * and no OCSP URL:
 *
 * - "Full": one full CRL disclosed; a second certificate also names a CDP whose
 *   CRL omits a revocation the disclosed CRL lists (crl_sources_disagree);
 * - "Part": three partitioned shards, each with a critical IDP naming its URL,
 *   revocations spread over two of them;
 * - "Wrong": two shards, one of whose IDP names another URL
 *   (partition_idp_mismatch).
 *
 * Each shard holds only its partition: it is made from its own copy of the
 * CA's index.txt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';
import { FaultServer } from '../helpers/fault-server.js';
import { readCertificates } from '../../src/pki/certificate.js';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { DisclosureStore } from '../../src/ccadb/store.js';

const exec = promisify(execFile);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const run = opensslAvailable() ? describe : describe.skip;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const genTime = (ms: number): string =>
  new Date(ms).toISOString().replace(/^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z');

interface StatusCert {
  serial: string;
  sha256: string;
  verdict: string;
  revocationTime: string | null;
  sources: { kind: string; url: string; status: string; route: string | null; error: string | null; thisUpdate: string | null }[];
  findings: { code: string; severity: string; message: string }[];
}

run('CCADB-disclosed CRLs against real openssl CRLs', { timeout: 240_000 }, () => {
  const http = new FaultServer();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-ccadb-'));
  const work = mkdtempSync(join(tmpdir(), 'revwatch-ccadb-csv-'));
  const now = Date.now();
  const reportedAt = Math.floor((now - 2 * HOUR) / 60_000) * 60_000;
  const revokedAt = Math.floor((now - HOUR) / 1000) * 1000;
  const cas: Record<'full' | 'part' | 'wrong', OpensslCa> = {} as never;
  const leaves: Record<string, IssuedLeaf> = {};
  /** Which leaves each CRL lists (the shard's partition); the full CRL lists every revoked leaf of its CA. */
  const shardMembers: Record<string, string[]> = {};
  const url = (path: string): string => http.url(path);

  const cli = (...args: string[]) => cliAt(home, ...args);
  const cliAt = async (at: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const r = await exec('node', ['bin/revwatch.js', '--home', at, '--allow-private-network', ...args], { encoding: 'utf8' });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const certOf = (name: string) => readCertificates(readFileSync(leaves[name]!.pemPath), name)[0]!;
  const caCert = (ca: OpensslCa) => readCertificates(readFileSync(ca.path('ca.pem')), 'ca')[0]!;

  /**
   * `openssl ca -gencrl` over a copy of the CA's index.txt holding only `members`' revocations, with an
   * IDP naming `idpUrl` (critical) when given.
   */
  const shardCrl = (ca: OpensslCa, shard: string, members: readonly string[], idpUrl: string | null): Buffer => {
    const serials = new Set(members.map((m) => leaves[m]!.serialHex));
    const index = readFileSync(ca.path('index.txt'), 'utf8')
      .split('\n')
      .map((line) => {
        const cols = line.split('\t');
        if (cols[0] === 'R' && !serials.has(cols[3]!))
          return [...cols.slice(0, 1).map(() => 'V'), cols[1], '', ...cols.slice(3)].join('\t');
        return line;
      })
      .join('\n');
    writeFileSync(ca.path(`index-${shard}.txt`), index);
    const extSection = `crl_${shard}`;
    if (!readFileSync(ca.path('openssl.cnf'), 'utf8').includes(`[${extSection}]`)) {
      ca.appendConfig(
        `[ca_${shard}]\ndir = ${ca.dir}\ndatabase = $dir/index-${shard}.txt\ncrlnumber = $dir/crlnumber\ncertificate = $dir/ca.pem\nprivate_key = $dir/ca.key\ndefault_md = sha256\n` +
          `[${extSection}]\nauthorityKeyIdentifier = keyid:always\n${idpUrl ? `issuingDistributionPoint = critical, @idp_${shard}\n[idp_${shard}]\nfullname = URI:${idpUrl}\n` : ''}`,
      );
    }
    const t = Date.now() - 60_000;
    execFileSync(
      'openssl',
      [
        'ca',
        '-gencrl',
        '-config',
        'openssl.cnf',
        '-name',
        `ca_${shard}`,
        '-crlexts',
        extSection,
        '-out',
        `${shard}.crl.pem`,
        '-crl_lastupdate',
        genTime(t),
        '-crl_nextupdate',
        genTime(t + 7 * DAY),
      ],
      { cwd: ca.dir, stdio: 'ignore' },
    );
    return execFileSync('openssl', ['crl', '-in', `${shard}.crl.pem`, '-outform', 'DER'], { cwd: ca.dir });
  };

  const serveShard = (ca: OpensslCa, shard: string, path: string, idpUrl: string | null): void => {
    http.route(path, (_req, res) => res.end(shardCrl(ca, shard, shardMembers[shard] ?? [], idpUrl)));
  };

  const partUrls = ['/part/s1.crl', '/part/s2.crl', '/part/s3.crl'];
  const wrongUrls = ['/wrong/w1.crl', '/wrong/w2.crl'];

  const reportRows = (): string[][] => {
    const row = (ca: OpensslCa, owner: string, full: string, partitioned: string[]): string[] => {
      const c = caCert(ca);
      return [
        owner,
        c.sha256.toUpperCase(),
        'ignored value',
        ca.name,
        Buffer.from(c.subjectKeyId!, 'hex').toString('base64'),
        full,
        partitioned.length ? JSON.stringify(partitioned) : '',
        readFileSync(ca.path('ca.pem'), 'utf8').replace(/\n/g, '\r\n'),
      ];
    };
    return [
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
      row(cas.full, 'Full Owner, Inc.', url('/full/ca.crl'), []),
      row(cas.part, 'Partitioned "Owner"', '', partUrls.map(url)),
      row(cas.wrong, 'Wrong Owner', '', wrongUrls.map(url)),
      // A CA that nothing here tracks, and a row that is not a certificate record.
      ['Other', 'CC'.repeat(32), '', 'Unrelated CA', 'AQI=', 'http://crl.invalid/x.crl', '', ''],
      ['Broken', 'not a fingerprint', '', '', '', '', '', ''],
    ];
  };
  const toCsv = (rows: string[][]): string => `${rows.map((r) => r.map((f) => `"${f.replace(/"/g, '""')}"`).join(',')).join('\r\n')}\r\n`;

  beforeAll(async () => {
    await http.start();
    for (const key of ['full', 'part', 'wrong'] as const) {
      const ca = new OpensslCa(url(`/${key}`), `CCADB Test CA ${key}`).init('ec');
      ca.appendConfig('[bare_ext]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n');
      cas[key] = ca;
    }
    cas.full.appendConfig(
      `[cdp_ext]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\ncrlDistributionPoints = URI:${url('/full/cdp.crl')}\n`,
    );
    for (const name of ['full-good', 'full-revoked']) leaves[name] = cas.full.issue(name, 'bare_ext');
    leaves['full-cdp'] = cas.full.issue('full-cdp', 'cdp_ext');
    for (const name of ['part-a', 'part-b', 'part-c']) leaves[name] = cas.part.issue(name, 'bare_ext');
    for (const name of ['wrong-a', 'wrong-b']) leaves[name] = cas.wrong.issue(name, 'bare_ext');

    for (const name of ['full-revoked', 'full-cdp']) cas.full.revoke(leaves[name]!, revokedAt, 'keyCompromise');
    for (const name of ['part-a', 'part-c']) cas.part.revoke(leaves[name]!, revokedAt, 'keyCompromise');
    cas.wrong.revoke(leaves['wrong-a']!, revokedAt, 'keyCompromise');

    // Full: the disclosed full CRL lists both revocations; the CDP CRL (a stale partition) lists none.
    shardMembers.full = ['full-revoked', 'full-cdp'];
    shardMembers.fullcdp = [];
    serveShard(cas.full, 'full', '/full/ca.crl', null);
    serveShard(cas.full, 'fullcdp', '/full/cdp.crl', null);
    // Part: part-a is in shard 2, part-c in shard 3, shard 1 lists nothing; each IDP names its own URL.
    shardMembers.s1 = [];
    shardMembers.s2 = ['part-a'];
    shardMembers.s3 = ['part-c'];
    for (const [i, p] of partUrls.entries()) serveShard(cas.part, `s${i + 1}`, p, url(p));
    // Wrong: w1 is right and lists wrong-a; w2's IDP names a URL that is not the disclosed one.
    shardMembers.w1 = ['wrong-a'];
    shardMembers.w2 = [];
    serveShard(cas.wrong, 'w1', wrongUrls[0]!, url(wrongUrls[0]!));
    serveShard(cas.wrong, 'w2', wrongUrls[1]!, url('/wrong/elsewhere.crl'));

    writeFileSync(join(work, 'report.csv'), toCsv(reportRows()));
    // The same report with its columns in another order.
    const order = [7, 3, 6, 0, 5, 2, 4, 1];
    writeFileSync(join(work, 'reordered.csv'), toCsv(reportRows().map((r) => order.map((i) => r[i] ?? ''))));
    writeFileSync(join(work, 'not-ccadb.csv'), 'SHA-256 Fingerprint,Certificate Name\r\nAA,x\r\n');
  });

  afterAll(async () => {
    for (const ca of Object.values(cas)) await ca?.dispose();
    await http.stop();
  });

  const track = (name: string, ca: OpensslCa) =>
    cli(
      'track',
      leaves[name]!.pemPath,
      '--issuer',
      ca.path('ca.pem'),
      '--case',
      'ccadb',
      '--reported-at',
      iso(reportedAt),
      '--reason',
      'key-compromise',
    );

  it('refuses a file without the needed columns with one line, writing nothing', async () => {
    const r = await cli('ccadb', 'import', join(work, 'not-ccadb.csv'));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `revwatch: ${join(work, 'not-ccadb.csv')} is not a CCADB report revwatch reads: no "JSON Array of All Full CRL URLs" (V5) or "Full CRL Issued By This CA" (V4) column of the "All Certificate Records" report, and no "SHA-256 Fingerprint" and "X.509 Certificate (PEM)" columns of the "All Certificate PEMs" report`,
    ]);
  });

  it('without an imported disclosure, a certificate without CDP or OCSP is refused', async () => {
    const r = await track('part-a', cas.part);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no CCADB disclosure is imported for its issuer/);
  });

  it('imports the report (bad rows by line), and the column-reordered report imports the same', async () => {
    const r = await cli('--json', 'ccadb', 'import', join(work, 'report.csv'));
    expect(r.code, r.stderr).toBe(0);
    const first = JSON.parse(r.stdout) as {
      disclosures: number;
      withCrls: number;
      added: number;
      skipped: { line: number; why: string }[];
    };
    expect(first).toMatchObject({
      disclosures: 4,
      withCrls: 4,
      added: 4,
      reports: [{ report: '"All Certificate Records" (V4)', rows: 5, kept: 4, skipped: 1 }],
    });
    // Rows 2..4 hold PEM cells of many lines each: the broken row starts far below line 6.
    expect(first.skipped).toHaveLength(1);
    expect(first.skipped[0]!.why).toMatch(/not a SHA-256 fingerprint/);
    const csvLines = readFileSync(join(work, 'report.csv'), 'utf8').split('\r\n');
    expect(csvLines[first.skipped[0]!.line - 1]).toMatch(/^"Broken"/);

    const again = await cli('--json', 'ccadb', 'import', join(work, 'reordered.csv'));
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ disclosures: 4, added: 0, changed: 0, unchanged: 4, removed: 0 });
  });

  it('tracks the certificates without CDP because their issuers disclosed CRLs', async () => {
    for (const [name, ca] of [
      ['full-good', cas.full],
      ['full-revoked', cas.full],
      ['full-cdp', cas.full],
      ['part-a', cas.part],
      ['part-b', cas.part],
      ['part-c', cas.part],
      ['wrong-a', cas.wrong],
      ['wrong-b', cas.wrong],
    ] as const) {
      const r = await track(name, ca);
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
    }
  });

  it('checks each disclosed CRL once for all certificates and finds the revocations in any shard', async () => {
    http.reset();
    const r = await cli('--json', 'check');
    // w2 is set aside (wrong IDP): a source that could not be used, exit 2.
    expect(r.code, r.stderr).toBe(2);
    const fetches = http.hits.map((h) => h.url).filter((u) => u.endsWith('.crl'));
    expect(fetches.sort()).toEqual(['/full/ca.crl', '/full/cdp.crl', ...partUrls, ...wrongUrls].sort());

    const status = await cli('--json', 'status', '--case', 'ccadb');
    expect(status.code, status.stderr).toBe(0);
    const certs = new Map(
      (JSON.parse(status.stdout) as { cases: { certificates: StatusCert[] }[] }).cases[0]!.certificates.map((c) => [c.sha256, c]),
    );
    const of = (name: string): StatusCert => certs.get(certOf(name).sha256)!;

    expect(of('full-good')).toMatchObject({ verdict: 'pending' });
    expect(of('full-good').sources).toEqual([
      expect.objectContaining({ kind: 'crl', url: url('/full/ca.crl'), route: 'ccadb', status: 'good' }),
    ]);
    expect(of('full-revoked')).toMatchObject({ verdict: 'revoked_on_time', revocationTime: iso(revokedAt) });

    // The shards answer as one CRL: the shard listing a certificate says revoked, and the others' silence is
    // no "good" for it (they may not cover it); a certificate no shard lists is good on every shard, dated by
    // the oldest shard's thisUpdate (execute.ts, ShardUnion).
    for (const [name, revokedIn] of [
      ['part-a', '/part/s2.crl'],
      ['part-b', null],
      ['part-c', '/part/s3.crl'],
    ] as const) {
      const c = of(name);
      const expected = revokedIn ? [`${revokedIn} ccadb revoked`] : partUrls.map((p) => `${p} ccadb good`);
      expect(c.sources.map((s) => `${s.url.replace(url(''), '')} ${s.route} ${s.status}`).sort(), name).toEqual(expected.sort());
      if (!revokedIn) expect(new Set(c.sources.map((s) => s.thisUpdate)).size, name).toBe(1);
      expect(c.verdict, name).toBe(revokedIn ? 'revoked_on_time' : 'pending');
      expect(
        c.findings.map((f) => f.code),
        name,
      ).not.toContain('partition_idp_mismatch');
    }

    // The shard whose IDP names another URL proves nothing and is a finding; the right shard still answers.
    for (const name of ['wrong-a', 'wrong-b']) {
      const c = of(name);
      const mismatch = c.findings.filter((f) => f.code === 'partition_idp_mismatch');
      expect(mismatch, name).toHaveLength(1);
      expect(mismatch[0]).toMatchObject({ severity: 'violation' });
      expect(mismatch[0]!.message).toContain(url('/wrong/w2.crl'));
      expect(mismatch[0]!.message).toContain(url('/wrong/elsewhere.crl'));
      expect(c.sources.find((s) => s.url === url('/wrong/w2.crl'))).toMatchObject({ status: 'error', route: 'ccadb' });
    }
    expect(of('wrong-a')).toMatchObject({ verdict: 'revoked_on_time' });
    // Unlisted in the usable shard, but the unusable one might list it: no "good" can be claimed from the set.
    expect(of('wrong-b')).toMatchObject({ verdict: 'undetermined' });
    expect(of('wrong-b').findings.map((f) => f.code)).toContain('evidence_insufficient');
    expect(of('wrong-b').sources.map((s) => s.status)).toEqual(['error']);

    // The CDP CRL omits what the disclosed full CRL lists.
    const cdp = of('full-cdp');
    expect(new Set(cdp.sources.map((s) => `${s.route} ${s.status}`))).toEqual(new Set(['cdp good', 'ccadb revoked']));
    expect(cdp.findings.find((f) => f.code === 'crl_sources_disagree')?.message).toMatch(
      /names .*cdp\.crl.* said good .* disclosed in the CCADB .*ca\.crl.* said revoked/,
    );
  });

  it('re-import replaces a changed disclosure and keeps the dated history', async () => {
    const rows = reportRows();
    rows[2]![6] = JSON.stringify([url('/part/s1.crl'), url('/part/s2.crl')]);
    writeFileSync(join(work, 'changed.csv'), toCsv(rows));
    const r = await cli('--json', 'ccadb', 'import', join(work, 'changed.csv'));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ changed: 1, unchanged: 3 });
    const open = await openEmbeddedStore(home);
    try {
      const history = await new DisclosureStore(open.store.table).history(caCert(cas.part).sha256);
      expect(history.map((h) => h.partitionedCrls.length)).toEqual([3, 2]);
      expect(history[0]!.at).toBeLessThan(history[1]!.at);
    } finally {
      await open.close();
    }
  });

  /**
   * The reports as the CCADB publishes them since CCADB Policy 2.1: the real V5 header (89 columns, a
   * fixture), no PEMs in it, the CA certificates in a separate "All Certificate PEMs" report; both in a
   * directory, written with a BOM and CRLF, quoted cells with commas and line breaks. A CA with two full
   * CRLs and a CA with partitioned shards; leaves without CDP or AIA tracked without --issuer.
   */
  describe('V5 and the PEM report, issuers from the CCADB', () => {
    const home5 = mkdtempSync(join(tmpdir(), 'revwatch-ccadb5-'));
    const dir = mkdtempSync(join(tmpdir(), 'revwatch-ccadb5-dir-'));
    const v5Header = readFileSync(join(__dirname, '..', 'fixtures', 'ccadb', 'AllCertificateRecordsCSVFormatV5.header.csv'), 'utf8')
      .trim()
      .split(',');
    const pemHeader = readFileSync(join(__dirname, '..', 'fixtures', 'ccadb', 'AllCertificatePEMsCSVFormat.header.csv'), 'utf8').trim();
    const cell = (f: string): string => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f);
    const v5Row = (values: Record<string, string>): string => {
      for (const k of Object.keys(values)) if (!v5Header.includes(k)) throw new Error(`no V5 column ${k}`);
      return v5Header.map((h) => cell(values[h] ?? '')).join(',');
    };
    const v5Leaves = ['v5-full-good', 'v5-full-revoked', 'v5-part-good', 'v5-part-revoked'];
    let badV5Line = 0;

    const writeReports = (): string => {
      const full = caCert(cas.full);
      const part = caCert(cas.part);
      const b64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');
      const records = [
        v5Header.join(','),
        v5Row({
          'CA Owner': 'Full Owner, Inc.',
          'Certificate Name': cas.full.name,
          'Certificate Record Type': 'Intermediate Certificate',
          'SHA-256 Fingerprint': full.sha256.toUpperCase(),
          'Subject Key Identifier': b64(full.subjectKeyId!),
          'JSON Array of All Full CRL URLs': JSON.stringify([url('/full/ca.crl'), url('/full/ca2.crl')]),
          'Audit Firm': 'Ernst & Young, LLP',
          'Certificate Policy (CP) URL': 'https://example.test/cp1.pdf\nhttps://example.test/cp2.pdf; https://example.test/cp3.pdf',
        }),
        v5Row({
          'CA Owner': 'Partitioned "Owner"',
          'Certificate Name': cas.part.name,
          'SHA-256 Fingerprint': part.sha256.toUpperCase(),
          'Subject Key Identifier': b64(part.subjectKeyId!),
          'JSON Array of Partitioned CRLs': JSON.stringify(partUrls.map(url)),
        }),
        v5Row({ 'CA Owner': 'Broken', 'SHA-256 Fingerprint': 'not a fingerprint' }),
      ];
      badV5Line = 5; // header, the full CA's row spans two lines (its CP cell), the part CA's row
      writeFileSync(join(dir, 'AllCertificateRecordsCSVFormatV5'), `\ufeff${records.join('\r\n')}\r\n`);
      const pemCell = (ca: OpensslCa): string => cell(readFileSync(ca.path('ca.pem'), 'utf8').trim().replace(/\n/g, '\r\n'));
      const pems = [
        pemHeader,
        `${full.sha256.toUpperCase()},${pemCell(cas.full)}`,
        `${part.sha256.toUpperCase()},${pemCell(cas.part)}`,
        // The wrong CA's fingerprint with the full CA's PEM: skipped, by its line.
        `${caCert(cas.wrong).sha256.toUpperCase()},${pemCell(cas.full)}`,
      ];
      writeFileSync(join(dir, 'AllCertificatePEMsCSVFormat_NotBeforeYear_2026'), `\ufeff${pems.join('\r\n')}\r\n`);
      writeFileSync(join(dir, 'README.txt'), 'not a report\n');
      return records.join('\r\n');
    };

    it('imports a directory of V5 and PEM reports (bad rows by line), then a V5 report by URL', async () => {
      for (const name of v5Leaves) leaves[name] = (name.startsWith('v5-full') ? cas.full : cas.part).issue(name, 'bare_ext');
      cas.full.revoke(leaves['v5-full-revoked']!, revokedAt, 'keyCompromise');
      cas.part.revoke(leaves['v5-part-revoked']!, revokedAt, 'keyCompromise');
      shardMembers.full = [...(shardMembers.full ?? []), 'v5-full-revoked'];
      shardMembers.full2 = shardMembers.full;
      shardMembers.s2 = [...(shardMembers.s2 ?? []), 'v5-part-revoked'];
      serveShard(cas.full, 'full2', '/full/ca2.crl', null);
      const v5Text = writeReports();

      const r = await cliAt(home5, '--json', 'ccadb', 'import', dir);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as {
        reports: { source: string; report: string; rows: number; kept: number; skipped: number }[];
        disclosures: number;
        caCertificates: number;
        skipped: { source: string; line: number; why: string }[];
        notReports: { file: string }[];
      };
      expect(out.reports).toEqual([
        {
          source: join(dir, 'AllCertificatePEMsCSVFormat_NotBeforeYear_2026'),
          report: '"All Certificate PEMs"',
          rows: 3,
          kept: 2,
          skipped: 1,
        },
        { source: join(dir, 'AllCertificateRecordsCSVFormatV5'), report: '"All Certificate Records" (V5)', rows: 3, kept: 2, skipped: 1 },
      ]);
      expect(out).toMatchObject({ disclosures: 2, caCertificates: 2 });
      expect(out.notReports.map((n) => n.file)).toEqual([join(dir, 'README.txt')]);
      const pemSkip = out.skipped.find((s) => s.source.includes('PEMs'))!;
      expect(pemSkip.why).toMatch(/does not hash to the row's "SHA-256 Fingerprint"/);
      const pemLines = readFileSync(join(dir, 'AllCertificatePEMsCSVFormat_NotBeforeYear_2026'), 'utf8').split('\r\n');
      expect(pemLines[pemSkip.line - 1]).toMatch(new RegExp(`^${caCert(cas.wrong).sha256.toUpperCase()},`));
      const v5Skip = out.skipped.find((s) => s.source.includes('Records'))!;
      expect(v5Skip).toMatchObject({ line: badV5Line, why: expect.stringMatching(/not a SHA-256 fingerprint/) });

      // The same records report by URL, through the guarded fetcher: nothing changed.
      http.route('/ccadb/AllCertificateRecordsCSVFormatV5', (_req, res) => res.end(`\ufeff${v5Text}\r\n`));
      const byUrl = await cliAt(home5, '--json', 'ccadb', 'import', url('/ccadb/AllCertificateRecordsCSVFormatV5'));
      expect(byUrl.code, byUrl.stderr).toBe(0);
      expect(JSON.parse(byUrl.stdout)).toMatchObject({ disclosures: 2, added: 0, changed: 0, unchanged: 2, removed: 0 });
    });

    it('tracks leaves without CDP or AIA without --issuer and without the network, checks them, and judges them right', async () => {
      http.reset();
      for (const name of v5Leaves) {
        const r = await cliAt(
          home5,
          'track',
          leaves[name]!.pemPath,
          '--case',
          'v5',
          '--reported-at',
          iso(reportedAt),
          '--reason',
          'key-compromise',
        );
        expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      }
      expect(http.hits).toEqual([]);
      const check = await cliAt(home5, '--json', 'check');
      expect(check.code, check.stderr).toBe(0);
      const status = await cliAt(home5, '--json', 'status', '--case', 'v5');
      expect(status.code, status.stderr).toBe(0);
      const certs = new Map(
        (JSON.parse(status.stdout) as { cases: { certificates: StatusCert[] }[] }).cases[0]!.certificates.map((c) => [c.sha256, c]),
      );
      const of = (name: string): StatusCert => certs.get(certOf(name).sha256)!;
      const routes = (c: StatusCert): string[] => c.sources.map((s) => `${s.url.replace(url(''), '')} ${s.route} ${s.status}`).sort();
      // Both disclosed full CRLs are sources, each one asked.
      expect(routes(of('v5-full-good'))).toEqual(['/full/ca.crl ccadb good', '/full/ca2.crl ccadb good']);
      expect(routes(of('v5-full-revoked'))).toEqual(['/full/ca.crl ccadb revoked', '/full/ca2.crl ccadb revoked']);
      expect(of('v5-full-revoked')).toMatchObject({ verdict: 'revoked_on_time', revocationTime: iso(revokedAt) });
      expect(of('v5-full-good')).toMatchObject({ verdict: 'pending' });
      // The partitioned set is the union of its shards.
      expect(routes(of('v5-part-revoked'))).toEqual(['/part/s2.crl ccadb revoked']);
      expect(of('v5-part-revoked')).toMatchObject({ verdict: 'revoked_on_time' });
      expect(routes(of('v5-part-good'))).toEqual(partUrls.map((p) => `${p} ccadb good`).sort());
      expect(of('v5-part-good')).toMatchObject({ verdict: 'pending' });
    });

    it('re-tracking an already tracked certificate with --crl-url adds that source, asked at the next check', async () => {
      serveShard(cas.full, 'full', '/full/extra.crl', null);
      const args = [
        'track',
        leaves['v5-full-good']!.pemPath,
        '--case',
        'v5',
        '--reported-at',
        iso(reportedAt),
        '--reason',
        'key-compromise',
      ];
      const again = await cliAt(home5, '--json', ...args, '--crl-url', url('/full/extra.crl'));
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ added: 0, alreadyTracked: 1, sourcesAdded: 1 });
      // The same again adds nothing.
      const same = await cliAt(home5, '--json', ...args, '--crl-url', url('/full/extra.crl'));
      expect(JSON.parse(same.stdout)).not.toHaveProperty('sourcesAdded');
      http.reset();
      const check = await cliAt(home5, '--json', 'check');
      expect(check.code, check.stderr).toBe(0);
      expect(http.hits.map((h) => h.url)).toContain('/full/extra.crl');
      const status = await cliAt(home5, '--json', 'status', '--case', 'v5');
      const cert = (JSON.parse(status.stdout) as { cases: { certificates: StatusCert[] }[] }).cases[0]!.certificates.find(
        (c) => c.sha256 === certOf('v5-full-good').sha256,
      )!;
      expect(cert.sources.map((s) => `${s.url.replace(url(''), '')} ${s.route} ${s.status}`).sort()).toEqual([
        '/full/ca.crl ccadb good',
        '/full/ca2.crl ccadb good',
        '/full/extra.crl given good',
      ]);
    });
  });
});
