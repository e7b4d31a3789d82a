/**
 * Every public output says what `status` says. One scenario reaches every
 * finding code (three cases; certificates covered by the certificate's own
 * sources, by a CRL its issuer disclosed in the CCADB only, and by nothing),
 * and then, certificate by certificate, status, each report format, the
 * notice email, the digest and the site's case pages are compared: the same
 * verdict, the same findings (those above info where an output lists only
 * those), and the claimed and effective revocation times where shown.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../src/domain.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { trackCertificates } from '../../../src/track/track.js';
import { buildStatus } from '../../../src/status/status.js';
import { buildCaseReport, type CaseReport } from '../../../src/report/case-report.js';
import { REPORT_FORMATS } from '../../../src/report/report-formats.js';
import { writeTextReport } from '../../../src/report/stream-report.js';
import { fileSpool } from '../../../src/adapters/local/file-spool.js';
import { fileTextSpool } from '../../../src/adapters/local/file-text-spool.js';
import { buildDigest } from '../../../src/report/digest.js';
import { buildSite, casePageName } from '../../../src/report/site.js';
import { sendNotices } from '../../../src/notify/notices.js';
import { EMPTY_RECORD, mergeEvidence } from '../../../src/rules/evidence.js';
import { FINDING_CHECKS, type CertificateStatus } from '../../../src/rules/verdict.js';
import { parseRawCertificate } from '../../../src/pki/raw-certificate.js';
import { subjectKeyId } from '../../../src/pki/certificate-fields.js';
import type { DisclosureLookup, StoredDisclosure } from '../../../src/ccadb/store.js';
import type { MailMessage, Mailer } from '../../../src/ports/index.js';
import type { StoredObservation } from '../../../src/ports/store.js';
import { DAY, HOUR, T0, makeWorld, testCa, type World } from '../check/world.js';

const NOW = T0 + 3 * DAY;
const CCADB_CRL = 'http://ccadb.test/full.crl';
const SHA1_CRL = 'http://sha1.test/root.crl';
/** BR 7.1.3.2.1 (2.2.5, SC097): RSASSA-PKCS1-v1_5 with SHA-1 ends here. */
const SHA1_SUNSET = Date.parse('2026-09-15T00:00:00Z');

type Kind = 'ocsp' | 'crl';
interface Answer {
  readonly kind: Kind;
  readonly url?: string;
  readonly at: number;
  readonly status: StoredObservation['status'];
  readonly vouched?: number;
  readonly nextUpdate?: number;
  readonly revokedAt?: number;
  readonly reason?: number | null;
  readonly error?: string;
  readonly signatureAlgorithm?: string;
  readonly listedRevocationDates?: number[];
}

/** What one output says of one certificate. */
interface Said {
  verdict?: string;
  codes: string[];
  claimed?: string | null;
  effective?: string | null;
}

class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  async send(message: MailMessage): Promise<void> {
    this.sent.push(message);
  }
}

const sorted = (codes: Iterable<string>): string[] => [...new Set(codes)].sort();

/** A CSV line's cells (RFC 4180 quoting). */
function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted && ch === '"' && line[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) {
      cells.push(cell);
      cell = '';
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}

/** Verdicts and findings by serial from an HTML case page (the report's, and the site's). */
function fromHtml(html: string): Map<string, Said> {
  const out = new Map<string, Said>();
  for (const m of html.matchAll(/<tr class="verdict-([a-z_]+)"><td><a [^>]*><code>([^<]+)<\/code>/g))
    out.set(m[2]!, { verdict: m[1]!, codes: [] });
  for (const m of html.matchAll(/<li class="finding [a-z]+"><strong>[a-z]+<\/strong> <code>([a-z0-9_]+)<\/code> \(serial ([^)]+)\)/g))
    out.get(m[2]!)?.codes.push(m[1]!);
  return out;
}

function fromMarkdown(md: string): Map<string, Said> {
  const out = new Map<string, Said>();
  const appendix = md.slice(md.indexOf('### Appendix: certificates'), md.indexOf('### Findings'));
  for (const line of appendix.split('\n').filter((l) => l.startsWith('| ['))) {
    const cells = line.split(' | ');
    out.set(cells[1]!, { verdict: cells[10]!, codes: [], claimed: cells[6] || null });
  }
  for (const m of md.matchAll(/^- \*\*[a-z]+\*\* `([a-z0-9_]+)` \(serial ([^)]+)\)/gm)) out.get(m[2]!)?.codes.push(m[1]!);
  return out;
}

describe('status, reports, notices, the digest and the site agree', { timeout: 120_000 }, () => {
  let w: World;
  let disclosures: DisclosureLookup;
  let ccadbOnlySha = '';
  const cases: Case[] = [];

  const record = async (caseId: string, sha256: string, answers: readonly Answer[], defaults: { ocsp: string; crl: string }) => {
    const cc = (await w.store.loadCase(caseId)).find((c) => c.cert.sha256 === sha256)!;
    const observations: StoredObservation[] = answers.map((a) => {
      const url = a.url ?? (a.kind === 'ocsp' ? defaults.ocsp : defaults.crl);
      const vouched = a.vouched ?? a.at;
      return {
        sha256Cert: sha256,
        observedAt: a.at,
        source: { kind: a.kind, url },
        status: a.status,
        revocationTime: a.status === 'revoked' ? a.revokedAt! : null,
        reasonCode: a.status === 'revoked' ? (a.reason ?? null) : null,
        thisUpdate: a.status === 'error' ? null : vouched,
        nextUpdate: a.status === 'error' ? null : (a.nextUpdate ?? vouched + 7 * DAY),
        producedAt: a.kind === 'ocsp' && a.status !== 'error' ? vouched : null,
        crlNumber: null,
        signer: a.status === 'error' ? null : a.kind === 'ocsp' ? 'issuer' : 'crl-issuer',
        sha256: a.status === 'error' ? null : `${a.kind}${a.at}`.padEnd(64, '0').replace(/[^0-9a-f]/g, '0'),
        error: a.status === 'error' ? { kind: a.error!, message: `${a.error} at ${a.at}` } : null,
        ...(a.signatureAlgorithm ? { signatureAlgorithm: a.signatureAlgorithm } : {}),
        ...(a.listedRevocationDates ? { listedRevocationDates: a.listedRevocationDates } : {}),
        raw: null,
      };
    });
    await w.store.recordObservations(observations);
    const merged = mergeEvidence(EMPTY_RECORD, observations, cc.cert.notAfter);
    await w.store.writeRecords([{ cert: cc.cert, record: merged, rev: cc.rev, pollDue: null, soleWriter: true }]);
  };

  beforeAll(async () => {
    w = await makeWorld(
      [
        { name: 'backdated' },
        { name: 'unknown' },
        { name: 'disagree' },
        { name: 'stale' },
        { name: 'badsig' },
        { name: 'reversed' },
        { name: 'wrongreason' },
        { name: 'invalidreason' },
        { name: 'idp' },
        { name: 'unreadable' },
        { name: 'crldisagree' },
        { name: 'expiredinsufficient', notAfter: T0 + 2 * DAY },
        { name: 'beforeissue' },
        { name: 'listedtwice' },
      ],
      { notify: ['ca@test.example'], confirmedAt: T0 + HOUR },
    );
    const urls = { ocsp: w.fetcher.ocspUrl, crl: w.fetcher.crlUrl };
    const ca = await testCa();
    const ski = subjectKeyId(parseRawCertificate(ca.info.der));
    const disclosure: StoredDisclosure = {
      sha256: ca.info.sha256,
      name: 'Unit CA',
      owner: 'Unit',
      subjectKeyId: ski,
      fullCrl: CCADB_CRL,
      partitionedCrls: [],
      pem: null,
      subjectNameHash: null,
      importedAt: T0 - DAY,
    };
    disclosures = {
      lastImport: async () => ({ at: T0 - DAY, source: 'test' }),
      byKeyId: async (key) => (key === ski ? [disclosure] : []),
      bySubjectName: async () => [],
    };
    cases.push(w.kase);

    // A certificate without a CDP or AIA, covered only by the CRL its issuer disclosed in the CCADB.
    const sourceless = { store: w.store, clock: w.clock, disclosedCrlsOf: async () => [CCADB_CRL] };
    const ccadbOnly = await ca.issue({ subject: 'CN=ccadbonly.example', notBefore: T0 - DAY, notAfter: T0 + 90 * DAY });
    await trackCertificates(sourceless, w.kase, [{ certificate: ccadbOnly.info, bundle: [], source: 'test' }], [ca.info]);
    ccadbOnlySha = ccadbOnly.info.sha256;
    // One of another CA, tracked on a disclosure since withdrawn (the lookup has none for it): no source at all.
    const other = await LocalCa.create({ name: 'Other CA', notBefore: T0 - 400 * DAY, notAfter: T0 + 800 * DAY });
    const lone = await other.issue({ subject: 'CN=nosource.example', notBefore: T0 - DAY, notAfter: T0 + 90 * DAY });
    await trackCertificates(sourceless, w.kase, [{ certificate: lone.info, bundle: [], source: 'test' }], [other.info]);

    // A misissuance case (5 days, SHOULD 24 hours) with a certificate still pending after the SHOULD deadline.
    const misissued = await ca.issue({
      subject: 'CN=pending.example',
      notBefore: T0 - DAY,
      notAfter: T0 + 90 * DAY,
      ocspUrls: [urls.ocsp],
      crlUrls: [urls.crl],
    });
    const c2: Case = {
      id: 'c2',
      title: 'Misissuance at Unit CA',
      reportedAt: T0,
      reason: 'misissuance',
      kind: 'tls-subscriber',
      notify: ['ca@test.example'],
      // BR 4.9.5: the preliminary report is due within 24 hours of the problem report; this one took 30.
      preliminaryReportAt: T0 + 30 * HOUR,
    };
    await trackCertificates(
      { store: w.store, clock: w.clock },
      c2,
      [{ certificate: misissued.info, bundle: [], source: 'test' }],
      [ca.info],
    );
    cases.push(c2);

    // A subordinate CA certificate revoked without a reason code (BR 7.2.2 requires one).
    const subca = await ca.issue({
      subject: 'CN=Sub CA',
      notBefore: T0 - DAY,
      notAfter: T0 + 400 * DAY,
      isCA: true,
      ocspUrls: [urls.ocsp],
      crlUrls: [urls.crl],
    });
    const c3: Case = {
      id: 'c3',
      title: 'Sub CA at Unit CA',
      reportedAt: T0,
      reason: 'key-compromise',
      kind: 'tls-subca',
      notify: ['ca@test.example'],
    };
    await trackCertificates({ store: w.store, clock: w.clock }, c3, [{ certificate: subca.info, bundle: [], source: 'test' }], [ca.info]);
    // A subordinate CA signed with sha1WithRSAEncryption (to be revoked before 2026-09-15: sha1_subca_sunset, info
    // until then), whose issuer's CRL is SHA-1 signed too, one issued at the date (crl_signed_sha1).
    const sha1Root = await LocalCa.create({
      name: 'SHA-1 Root',
      keyType: 'rsa-2048-sha1',
      notBefore: T0 - 400 * DAY,
      notAfter: T0 + 800 * DAY,
    });
    const sha1Sub = await sha1Root.issue({
      subject: 'CN=SHA-1 Sub CA',
      isCA: true,
      notBefore: T0 - 400 * DAY,
      notAfter: T0 + 800 * DAY,
      crlUrls: [SHA1_CRL],
    });
    await trackCertificates(
      { store: w.store, clock: w.clock },
      c3,
      [{ certificate: sha1Sub.info, bundle: [], source: 'test' }],
      [sha1Root.info],
    );
    cases.push(c3);

    const c = w.certs;
    const at = (h: number): number => T0 + h * HOUR;
    const c1 = (name: string, answers: Answer[]) => record('c1', c[name]!.sha256, answers, urls);
    await c1('backdated', [
      { kind: 'ocsp', at: at(2), status: 'good' },
      { kind: 'ocsp', at: at(3), status: 'revoked', revokedAt: at(1), reason: 1 },
    ]);
    await c1('unknown', [{ kind: 'ocsp', at: at(1), status: 'unknown' }]);
    await c1('disagree', [
      { kind: 'ocsp', at: at(2), status: 'revoked', revokedAt: at(1), reason: 1 },
      { kind: 'crl', at: at(3), status: 'good', vouched: T0 },
    ]);
    await c1('stale', [{ kind: 'crl', at: at(48), status: 'good', vouched: at(1), nextUpdate: at(24) }]);
    await c1('badsig', [{ kind: 'ocsp', at: at(1), status: 'error', error: 'bad-signature' }]);
    await c1('reversed', [
      { kind: 'crl', at: at(2), status: 'revoked', vouched: at(1), revokedAt: at(0.5), reason: 1 },
      { kind: 'crl', at: at(6), status: 'good', vouched: at(5) },
    ]);
    await c1('wrongreason', [{ kind: 'crl', at: at(2), status: 'revoked', revokedAt: at(1), reason: 4 }]);
    await c1('invalidreason', [{ kind: 'crl', at: at(2), status: 'revoked', revokedAt: at(1), reason: 6 }]);
    await c1('idp', [
      { kind: 'ocsp', at: at(1), status: 'good' },
      { kind: 'crl', at: at(1), status: 'error', error: 'wrong-distribution-point' },
    ]);
    await c1('unreadable', [
      { kind: 'ocsp', at: at(1), status: 'good' },
      { kind: 'crl', url: CCADB_CRL, at: at(1), status: 'error', error: 'network' },
    ]);
    await c1('crldisagree', [
      { kind: 'crl', at: at(1), status: 'good', vouched: T0 },
      { kind: 'crl', url: CCADB_CRL, at: at(2), status: 'revoked', revokedAt: at(1.5), reason: 1 },
    ]);
    await c1('expiredinsufficient', [{ kind: 'crl', at: at(60), status: 'good' }]);
    // Dated two days before the report and a day before the certificate's notBefore (T0 - 1 day).
    await c1('beforeissue', [{ kind: 'crl', at: at(2), status: 'revoked', revokedAt: T0 - 2 * DAY, reason: 1 }]);
    // A CRL listing the serial twice (crl_duplicate_entry): the earlier date is the one recorded.
    await c1('listedtwice', [
      { kind: 'crl', at: at(2), status: 'revoked', revokedAt: at(1), reason: 1, listedRevocationDates: [at(1.5), at(1)] },
    ]);
    await record('c1', ccadbOnlySha, [{ kind: 'crl', url: CCADB_CRL, at: at(1), status: 'good' }], urls);
    await record('c2', misissued.info.sha256, [{ kind: 'ocsp', at: at(1), status: 'good' }], urls);
    await record('c3', subca.info.sha256, [{ kind: 'crl', at: at(2), status: 'revoked', revokedAt: at(1), reason: null }], urls);
    await record(
      'c3',
      sha1Sub.info.sha256,
      [{ kind: 'crl', url: SHA1_CRL, at: at(2), status: 'good', vouched: SHA1_SUNSET, signatureAlgorithm: 'sha1WithRSAEncryption' }],
      urls,
    );
    w.clock.set(NOW);
  });

  it('reaches every finding code, and the CCADB-only certificate has none', async () => {
    const status = await buildStatus(w.store, NOW, undefined, { disclosures });
    const all = status.cases.flatMap((k) => k.certificates);
    expect(sorted(all.flatMap((s) => s.findings.map((f) => f.code)))).toEqual(sorted(Object.keys(FINDING_CHECKS)));
    const ccadbOnly = all.find((s) => s.sha256 === ccadbOnlySha)!;
    expect(ccadbOnly.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(ccadbOnly.sources.map((s) => [s.route, s.status])).toEqual([['ccadb', 'good']]);
  });

  it('every output says what status says, certificate by certificate', async () => {
    const status = await buildStatus(w.store, NOW, undefined, { disclosures });
    const mailer = new RecordingMailer();
    await sendNotices({ store: w.store, ledger: w.store, mailer, clock: w.clock, from: 'revwatch@test.example', disclosures });
    const digest = await buildDigest(w.store, NOW, 0, { disclosures }, new Set());
    const site = await buildSite(w.store, NOW, { disclosures });
    const checked = new Set<string>();

    for (const kase of status.cases) {
      const expected = new Map<string, CertificateStatus>(kase.certificates.map((s) => [s.serial, s]));
      const want = (s: CertificateStatus, aboveInfo: boolean): string[] =>
        sorted(s.findings.filter((f) => !aboveInfo || f.severity !== 'info').map((f) => f.code));
      const compare = (output: string, said: ReadonlyMap<string, Said>, aboveInfo: boolean, withVerdict = true): void => {
        expect([...said.keys()].sort(), `${output}: certificates of ${kase.id}`).toEqual([...expected.keys()].sort());
        for (const [serial, s] of expected) {
          const got = said.get(serial)!;
          if (withVerdict) expect(got.verdict, `${output}: verdict of ${serial}`).toBe(s.verdict);
          expect(sorted(got.codes), `${output}: findings of ${serial}`).toEqual(want(s, aboveInfo));
          if (got.claimed !== undefined) expect(got.claimed, `${output}: claimed time of ${serial}`).toBe(s.revocationTime);
          if (got.effective !== undefined) expect(got.effective, `${output}: effective time of ${serial}`).toBe(s.effectiveRevocationTime);
          checked.add(`${output} ${kase.id} ${serial}`);
        }
      };

      // Each report format, rendered as `revwatch report` renders it.
      const report = async (name: keyof typeof REPORT_FORMATS): Promise<CaseReport> => {
        const f = REPORT_FORMATS[name];
        return buildCaseReport(w.store, kase.id, NOW, {
          observations: f.observations,
          allObservations: f.allObservations,
          certificateBytes: f.certificateBytes,
          disclosures: disclosures,
        });
      };
      const json = JSON.parse(await REPORT_FORMATS.json.renderer().then((r) => report('json').then(r))) as {
        certificates: CertificateStatus[];
      };
      compare(
        'json',
        new Map(
          json.certificates.map((c) => [
            c.serial,
            { verdict: c.verdict, codes: c.findings.map((f) => f.code), claimed: c.revocationTime, effective: c.effectiveRevocationTime },
          ]),
        ),
        false,
      );
      const csv = (await REPORT_FORMATS.csv.renderer())(await report('csv'))
        .trim()
        .split('\r\n')
        .map(csvCells);
      const header = csv[0]!;
      const col = (name: string): number => header.indexOf(name);
      compare(
        'csv',
        new Map(
          csv.slice(1).map((row) => [
            row[col('serial')]!,
            {
              verdict: row[col('verdict')]!,
              codes: want(expected.get(row[col('serial')]!)!, false), // the CSV has no findings column
              claimed: row[col('claimed_revocation_date')] || null,
              effective: row[col('effective_revocation_date')] || null,
            },
          ]),
        ),
        false,
      );
      compare('markdown', fromMarkdown((await REPORT_FORMATS.markdown.renderer())(await report('markdown'))), false);
      compare('html', fromHtml((await REPORT_FORMATS.html.renderer())(await report('html'))), false);
      const bundle = (await REPORT_FORMATS.bundle.renderer())(await report('bundle'), () => null);
      const bundled = bundle.find((f) => f.path === 'report.md')!;
      compare('bundle report.md', fromMarkdown(Buffer.from(bundled.bytes).toString('utf8')), false);

      // The site's case page.
      const page = site.find((f) => f.path === `cases/${casePageName(kase.id)}`)!;
      compare('site', fromHtml(Buffer.from(page.bytes).toString('utf8')), false);

      // The digest lists findings above info (all new here), per CA.
      const digestSaid = new Map<string, Said>([...expected.keys()].map((serial) => [serial, { codes: [] }]));
      for (const ca of digest.cas) for (const f of ca.newFindings) if (f.caseId === kase.id) digestSaid.get(f.serial)!.codes.push(f.code);
      compare('digest', digestSaid, true, false);

      // The notice email: a row per certificate with its verdict and both times, and a line per finding above info.
      const mail = mailer.sent.find((m) => m.subject.includes(kase.title));
      expect(mail, `a notice for ${kase.id}`).toBeDefined();
      const text = mail!.text;
      const noticeSaid = new Map<string, Said>();
      for (const serial of expected.keys()) {
        const row = text.split('\n').find((l) => l.startsWith(`  ${serial} `))!;
        const [, verdict, claimed, effective] = row.trim().split(/\s+/);
        noticeSaid.set(serial, {
          verdict,
          codes: [...text.matchAll(new RegExp(`^- serial ${serial}: [a-z]+ ([a-z0-9_]+): `, 'gm'))].map((m) => m[1]!),
          claimed: claimed === '-' ? null : claimed,
          effective: effective === '-' ? null : effective,
        });
        const s = expected.get(serial)!;
        if (s.verdict === 'revoked_on_time' || s.verdict === 'revoked_late') {
          const line = text.split('\n').find((l) => l.startsWith(`- serial ${serial} revoked`))!;
          expect(line).toContain(`claimed revocation time ${s.revocationTime}`);
          expect(line).toContain(
            s.revocationTime === s.effectiveRevocationTime
              ? 'effective revocation time the same'
              : `effective revocation time ${s.effectiveRevocationTime}`,
          );
        }
      }
      compare('notice', noticeSaid, true);
    }
    // 19 certificates in all, each compared in every output.
    const outputs = ['json', 'csv', 'markdown', 'html', 'bundle report.md', 'site', 'digest', 'notice'];
    expect(checked.size).toBe(outputs.length * status.cases.flatMap((k) => k.certificates).length);
    expect(status.cases.flatMap((k) => k.certificates)).toHaveLength(19);
  });

  it('`report` writes as the verdicts come what the whole-case renderers write, byte for byte, every text format', async () => {
    const status = await buildStatus(w.store, NOW, undefined, { disclosures });
    let compared = 0;
    for (const kase of status.cases) {
      for (const name of ['markdown', 'csv', 'json', 'html'] as const) {
        const f = REPORT_FORMATS[name];
        const options = {
          observations: f.observations,
          allObservations: f.allObservations,
          certificateBytes: f.certificateBytes,
          disclosures,
        };
        const whole = (await f.renderer())(await buildCaseReport(w.store, kase.id, NOW, options));
        // In memory, and on temporary files as the CLI spools (a run of two verdicts, so the merge is exercised).
        for (const spools of [{}, { openSpool: () => fileSpool(undefined, { runSize: 2 }), openTextSpool: () => fileTextSpool() }]) {
          let streamed = '';
          let chunks = 0;
          await writeTextReport(
            f.streamed,
            w.store,
            kase.id,
            NOW,
            (chunk) => {
              streamed += chunk;
              chunks++;
            },
            { ...options, ...spools },
          );
          expect(streamed, `${name} of ${kase.id}`).toBe(whole);
          expect(chunks).toBeGreaterThan(0);
          compared++;
        }
      }
    }
    expect(compared).toBe(status.cases.length * 8);
  });

  it('a streamed report of a case that does not exist writes nothing', async () => {
    let written = '';
    await expect(
      writeTextReport('markdown', w.store, 'no-such-case', NOW, (chunk) => {
        written += chunk;
      }),
    ).rejects.toThrow(/no case "no-such-case"/);
    expect(written).toBe('');
  });
});
