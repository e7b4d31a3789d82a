/**
 * Notices, reports and the digest, on the data a real `revwatch demo` run
 * leaves behind (local CA, embedded store, six-hourly checks over three days).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { mockClient } from 'aws-sdk-client-mock';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { run } from '../../src/cli/main.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { openEmbeddedStore, type OpenStore } from '../../src/adapters/local/embedded-store.js';
import { buildCaseReport, type CaseReport } from '../../src/report/case-report.js';
import { toBundle } from '../../src/report/bundle.js';
import { CSV_HEADER, toCsv, toJson, toMarkdown } from '../../src/report/formats.js';
import { toHtml } from '../../src/report/html.js';
import { buildDigest, formatDigest } from '../../src/report/digest.js';
import { composeEmail, sendNotices } from '../../src/notify/notices.js';
import type { MailMessage, Mailer } from '../../src/ports/index.js';
import { toMime } from '../../src/adapters/mime.js';
import { SesMailer } from '../../src/adapters/aws/ses-mailer.js';
import { OutboxMailer } from '../../src/adapters/local/outbox-mailer.js';
import { buildStatus } from '../../src/status/status.js';
import type { Case } from '../../src/domain.js';

const NOW = Date.parse('2026-06-10T12:00:00Z');
const HOUR = 3_600_000;

class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  failNext = false;
  async send(m: MailMessage): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('SES: Throttling, maximum sending rate exceeded');
    }
    this.sent.push(m);
  }
}

describe('reports, notices and digest', () => {
  const home = mkdtempSync(join(tmpdir(), 'revwatch-reports-'));
  const clock = new FakeClock(NOW);
  let open: OpenStore;
  let report: CaseReport;
  const out: string[] = [];

  beforeAll(async () => {
    const code = await run(['--home', home, 'demo'], { stdout: (s) => out.push(s), stderr: () => undefined, env: {}, clock });
    expect(code).toBe(0);
    open = await openEmbeddedStore(home);
    // Every observation with its raw bytes and every certificate's DER, as `report --format bundle` asks for.
    report = await buildCaseReport(open.store, 'demo-key-compromise', NOW, {
      crlFile: (sha) => (existsSync(join(home, 'crls', `${sha}.crl`)) ? join(home, 'crls', `${sha}.crl`) : null),
      allObservations: true,
      certificateBytes: true,
    });
  });

  afterAll(async () => {
    await open?.close();
  });

  it("the demo's check lines say what each simulated check saw", () => {
    const lines = out
      .join('')
      .split('\n')
      .filter((l) => /^ {2}\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z {2}check: /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines[0]).toMatch(/check: first answers, 5 certificate\(s\) good$/);
    expect(lines.filter((l) => /check: on-time revoked at \S+Z \(keyCompromise\) on OCSP and CRL$/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /check: late revoked at \S+Z \(keyCompromise\) on OCSP and CRL$/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /check: backdated revoked at \S+Z \(superseded\) on OCSP and CRL$/.test(l))).toHaveLength(1);
    expect(lines.some((l) => /every answer as before$/.test(l))).toBe(true);
  });

  describe('notices', () => {
    it('the demo wrote one email per case per check with news to the outbox, each parseable, with the CSV attached', async () => {
      const files = readdirSync(join(home, 'outbox'))
        .filter((f) => f.endsWith('.eml'))
        .sort();
      expect(files.length).toBeGreaterThanOrEqual(4);
      const mails = await Promise.all(files.map((f) => simpleParser(readFileSync(join(home, 'outbox', f)))));
      for (const m of mails) {
        expect(m.to && !Array.isArray(m.to) ? m.to.text : '').toBe('ca-compliance@demo.example');
        expect(m.subject).toMatch(/^\[revwatch\] Demo: key compromise reported to Demo CA: /);
        expect(m.attachments).toHaveLength(1);
        const rows = m.attachments[0]!.content.toString().trim().split('\r\n');
        expect(rows[0]).toBe(CSV_HEADER.join(','));
        expect(rows).toHaveLength(1 + 5);
      }
      // Each notice went out once: the deadline-missed notice in exactly one email.
      expect(mails.filter((m) => /deadline missed/.test(m.subject ?? ''))).toHaveLength(1);
      expect(mails.filter((m) => /revoked/.test(m.subject ?? '')).length).toBeGreaterThanOrEqual(2);
      // Nothing new now: sending again sends nothing.
      const mailer = new RecordingMailer();
      await sendNotices({ store: open.store, ledger: open.store, mailer, clock, from: 'revwatch@test.example', disclosures: null });
      expect(mailer.sent).toEqual([]);
    });

    it('puts the first 50 rows in the body and every certificate in the attachment', async () => {
      const status = (await buildStatus(open.store, NOW, 'demo-key-compromise')).cases[0]!;
      const many = {
        ...status,
        certificates: Array.from({ length: 80 }, (_, i) => ({ ...status.certificates[i % 5]!, serial: `${i}`.padStart(4, '0') })),
      };
      const kase = (await open.store.getCase('demo-key-compromise')) as Case;
      const mail = await simpleParser(
        await toMime(
          composeEmail(kase, many, [{ key: 'deadline-missed', kind: 'deadline-missed', line: 'x' }], 'a@b.example', ['c@d.example'], NOW),
        ),
      );
      expect(mail.text).toMatch(/first 50 of 80/);
      expect((mail.text!.match(/^ {2}\d{4} /gm) ?? []).length).toBe(50);
      expect(mail.attachments[0]!.content.toString().trim().split('\r\n')).toHaveLength(81);
    });

    describe('ledger', () => {
      const kase: Case = {
        id: 'ledger-case',
        title: 'Ledger case',
        reportedAt: NOW - 2 * 86_400_000,
        reason: 'key-compromise',
        kind: 'tls-subscriber',
        notify: ['x@y.example'],
      };
      beforeAll(async () => {
        await open.store.createCase(kase, NOW);
        const certificates = await open.store.loadCase('demo-key-compromise');
        await open.store.addCertificates(certificates.map((c) => ({ ...c.cert, caseId: kase.id })));
      });

      it('an SES failure leaves the notice pending, never lost; the next run sends it once, even with nothing changed', async () => {
        const mailer = new RecordingMailer();
        mailer.failNext = true;
        const first = await sendNotices(
          { store: open.store, ledger: open.store, mailer, clock, from: 'r@t.example', disclosures: null },
          { caseId: kase.id },
        );
        expect(first[0]).toMatchObject({ sent: 0, error: expect.stringMatching(/Throttling/) });
        expect(mailer.sent).toHaveLength(0);
        // The next check saw no change in this case: the released notices still go out.
        const second = await sendNotices(
          { store: open.store, ledger: open.store, mailer, clock, from: 'r@t.example', disclosures: null },
          { caseId: kase.id, changedCaseIds: new Set() },
        );
        expect(second[0]).toMatchObject({ sent: 1, error: null });
        expect(mailer.sent).toHaveLength(1);
        await sendNotices(
          { store: open.store, ledger: open.store, mailer, clock, from: 'r@t.example', disclosures: null },
          { caseId: kase.id },
        );
        expect(mailer.sent).toHaveLength(1);
      });

      it('a crash between record and send leaves the notice to the next run after the claim lapses, sent once', async () => {
        // A run claims a new notice and dies before sending.
        const key = 'finding:crash-test:no_revocation_source';
        expect(await open.store.claimNotices(kase.id, [key], 'crashed-run', clock.now().getTime(), 5 * 60_000)).toEqual([key]);
        // While the claim is fresh, nobody else takes it.
        expect(await open.store.claimNotices(kase.id, [key], 'other', clock.now().getTime() + 60_000, 5 * 60_000)).toEqual([]);
        // After the lease, the next run takes it over and marks it sent; the crashed run's late mark is ignored.
        const later = clock.now().getTime() + 10 * 60_000;
        expect(await open.store.claimNotices(kase.id, [key], 'next-run', later, 5 * 60_000)).toEqual([key]);
        await open.store.markNoticesSent(kase.id, [key], 'next-run', later);
        await open.store.markNoticesSent(kase.id, [key], 'crashed-run', later);
        const entry = (await open.store.listNotices(kase.id)).find((n) => n.key === key)!;
        expect(entry).toMatchObject({ state: 'sent', sentAt: later });
        expect(await open.store.claimNotices(kase.id, [key], 'third', later + 86_400_000, 5 * 60_000)).toEqual([]);
      });
    });

    it('the SES adapter sends the raw MIME from the configured sender to every recipient', async () => {
      const ses = mockClient(SESClient);
      ses.on(SendRawEmailCommand).resolves({ MessageId: 'm-1' });
      const kase = (await open.store.getCase('demo-key-compromise')) as Case;
      const status = (await buildStatus(open.store, NOW, kase.id)).cases[0]!;
      await new SesMailer(new SESClient({ region: 'eu-west-1' })).send(
        composeEmail(
          kase,
          status,
          [{ key: 'k', kind: 'revoked', line: 'serial 01 revoked' }],
          'revwatch@ca.example',
          ['a@x.example', 'b@x.example'],
          NOW,
        ),
      );
      const call = ses.commandCalls(SendRawEmailCommand)[0]!.args[0].input;
      expect(call.Source).toBe('revwatch@ca.example');
      expect(call.Destinations).toEqual(['a@x.example', 'b@x.example']);
      const parsed = await simpleParser(Buffer.from(call.RawMessage!.Data!));
      expect(parsed.subject).toBe('[revwatch] Demo: key compromise reported to Demo CA: 1 revoked');
      expect(parsed.attachments[0]!.filename).toBe('demo-key-compromise-certificates.csv');
      ses.restore();
    });

    it('the outbox mailer writes .eml files and one summary line each', async () => {
      const lines: string[] = [];
      const mailer = new OutboxMailer(join(home, 'outbox-test'), (l) => lines.push(l));
      const kase = (await open.store.getCase('demo-key-compromise')) as Case;
      const status = (await buildStatus(open.store, NOW, kase.id)).cases[0]!;
      await mailer.send(composeEmail(kase, status, [{ key: 'k', kind: 'finding', line: 'x' }], 'r@t.example', ['z@t.example'], NOW));
      expect(mailer.written).toHaveLength(1);
      expect(lines[0]).toMatch(/^mail to z@t.example: \[revwatch\]/);
    });
  });

  describe('reports', () => {
    it('counts as the CCADB delayed-revocation update asks, matching the statuses', () => {
      expect(report.counts).toEqual({
        total: 5,
        revoked: 3,
        revokedOnTime: 1,
        revokedLate: 2,
        notYetRevoked: 1,
        overdue: 1,
        expired: 1,
        undetermined: 0,
      });
      expect(report.deadline).toBe(new Date(Date.parse(report.case.reportedAt) + 24 * HOUR).toISOString().replace('.000', ''));
      expect(report.rule).toMatchObject({ id: 'tls-sc6-24h', section: 'BR 4.9.1.1', mustHours: 24 });
    });

    it('markdown: counts, deadline, rule, timeline, a row per certificate, the findings, and how to verify', () => {
      const md = toMarkdown(report);
      expect(md).toContain(`| Revoked | 3 (1 on time, 2 late) |`);
      expect(md).toContain(`| Not yet revoked | 1 (1 overdue) |`);
      expect(md).toContain(`| Expired | 1 |`);
      expect(md).toContain(`| MUST deadline | ${report.deadline} |`);
      expect(md).toContain('tls-sc6-24h: BR 4.9.1.1');
      expect(md).toMatch(/Problem reported to the CA/);
      for (const c of report.certificates) expect(md).toMatch(new RegExp(`\\| ${c.serial} \\|.*\\| ${c.verdict} \\|`));
      for (const f of report.findings) expect(md).toContain(`\`${f.finding.code}\` (serial ${f.serial})`);
      expect(md).toContain('openssl ocsp -respin');
    });

    it('csv: one row per certificate with the agreed columns', () => {
      const rows = toCsv(report)
        .trim()
        .split('\r\n')
        .map((r) => r.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/));
      expect(rows[0]).toEqual(CSV_HEADER);
      expect(rows).toHaveLength(6);
      for (const c of report.certificates) {
        // Columns by name: the header grew the incident-report fields (subject CN, SANs, validity, first seen...).
        const col = (name: string): string => row[CSV_HEADER.indexOf(name)]!;
        const row = rows.find((r) => r[CSV_HEADER.indexOf('serial')] === c.serial)!;
        expect(col('sha256')).toBe(c.sha256);
        expect(col('crtsh')).toBe(`https://crt.sh/?q=${c.sha256}`);
        expect(col('is_revoked')).toBe(String(c.revocationTime !== null));
        expect(col('effective_revocation_date')).toBe(c.effectiveRevocationTime ?? '');
        expect(col('revocation_reason')).toBe(c.reasonCode ?? '');
        expect(col('verdict')).toBe(c.verdict);
        expect(col('late_by_seconds')).toBe(c.lateBySeconds === null ? '' : String(c.lateBySeconds));
      }
    });

    it('json: the status of the case plus the observations, with raw OCSP evidence', async () => {
      const json = JSON.parse(toJson(report));
      const status = (await buildStatus(open.store, NOW, 'demo-key-compromise')).cases[0]!;
      expect(json.certificates.map((c: { verdict: string }) => c.verdict)).toEqual(status.certificates.map((c) => c.verdict));
      const late = json.certificates.find(
        (c: { verdict: string; lateBySeconds: number }) => c.verdict === 'revoked_late' && c.lateBySeconds === 16 * 3600,
      );
      expect(
        late.observations.some((o: { source: { kind: string }; raw: string | null }) => o.source.kind === 'ocsp' && o.raw !== null),
      ).toBe(true);
    });

    it('bundle: every file is listed with its hash, and openssl verifies the evidence', () => {
      const files = toBundle(report, (sha) => {
        const p = join(home, 'crls', `${sha}.crl`);
        return existsSync(p) ? readFileSync(p) : null;
      });
      const dir = mkdtempSync(join(tmpdir(), 'revwatch-bundle-'));
      for (const f of files) {
        mkdirSync(join(dir, f.path, '..'), { recursive: true });
        writeFileSync(join(dir, f.path), f.bytes);
      }
      expect(execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' })).not.toMatch(/FAILED/);
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      expect(manifest.crls.length).toBeGreaterThan(0);
      expect(manifest.crls.every((c: { file: string | null }) => c.file !== null)).toBe(true);
      const issuer = files.find((f) => f.path.startsWith('certs/issuer-'))!.path;
      const ocsp = manifest.ocspResponses[0].path;
      const out = execFileSync('openssl', ['ocsp', '-respin', ocsp, '-issuer', issuer, '-VAfile', issuer, '-resp_text'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(out).toMatch(/Cert Status/);
      const crl = manifest.crls[0].file;
      expect(
        execFileSync('openssl', ['crl', '-inform', 'DER', '-in', crl, '-CAfile', issuer, '-noout'], {
          cwd: dir,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      ).toBe('');
      // The bundle's own script runs the README's command for every response and CRL.
      expect(execFileSync('sh', ['verify.sh'], { cwd: dir, encoding: 'utf8' })).toMatch(/all evidence verified\n$/);
    });

    const chromium = '/usr/bin/chromium';
    it.skipIf(!existsSync(chromium))(
      'html: opens in a real headless Chromium with no console errors, one chart point per revocation, matching counts',
      async () => {
        const { chromium: browserType } = await import('playwright-core');
        const dir = join(process.cwd(), 'test-artifacts');
        mkdirSync(dir, { recursive: true });
        const page = join(dir, 'report.html');
        writeFileSync(page, toHtml(report));
        const browser = await browserType.launch({
          executablePath: chromium,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        });
        try {
          const tab = await browser.newPage();
          const errors: string[] = [];
          tab.on('console', (m) => {
            if (m.type() === 'error') errors.push(m.text());
          });
          tab.on('pageerror', (e) => errors.push(e.message));
          await tab.goto(`file://${page}`);
          expect(errors).toEqual([]);
          expect(await tab.locator('svg circle.revocation-point').count()).toBe(report.counts.revoked);
          expect(await tab.locator('svg .deadline-must').count()).toBe(1);
          for (const [key, value] of Object.entries(report.counts)) {
            const cell = tab.locator(`#summary [data-count="${key}"]`);
            if ((await cell.count()) > 0) expect(await cell.textContent()).toBe(String(value));
          }
          expect(await tab.locator('#certificates tbody tr').count()).toBe(report.counts.total);
          await tab.screenshot({ path: join(dir, 'report.png'), fullPage: true });
        } finally {
          await browser.close();
        }
        expect(existsSync(join(dir, 'report.png'))).toBe(true);
      },
    );
  });

  it('digest: per CA, open cases, on time and late, the worst delay, new findings', async () => {
    const d = await buildDigest(open.store, NOW, NOW - 7 * 86_400_000, { disclosures: null });
    expect(d.cas).toHaveLength(1);
    const ca = d.cas[0]!;
    expect(ca.ca).toBe('CN=revwatch Demo Issuing CA, O=revwatch demo');
    // demo-key-compromise: 1 on time, 2 late, 1 overdue. ledger-case tracks the same five
    // certificates but was reported a day later, so its deadline is a day later: 3 on time, 1 overdue.
    expect(ca).toMatchObject({ revokedOnTime: 4, revokedLate: 2, overdue: 2 });
    expect(ca.worstDelay?.seconds).toBe(48 * 3600);
    expect(ca.openCases.map((c) => c.id).sort()).toEqual(['demo-key-compromise', 'demo-misissuance', 'ledger-case']);
    expect(ca.newFindings.map((f) => f.code)).toContain('revocation_backdated');
    const text = formatDigest(d, 'text');
    expect(text).toContain('Worst delay: 2 d (serial');
    expect(formatDigest(d, 'markdown')).toMatch(/^## Revocation deadline digest/);
    const none = await buildDigest(open.store, NOW, NOW + 86_400_000, { disclosures: null });
    expect(none.cas[0]!.newFindings).toEqual([]);
  });

  it('a missed deadline: the report says a separate delayed-revocation report is required; the digest lists cases without one until it is known', async () => {
    // demo-key-compromise missed its deadline (2026-06: CCADB IRG 3.0+, Chrome 1.6+, MRSP 3.0+ and Microsoft v1.2 apply).
    expect(report.incidentDuties.missed).toBeGreaterThan(0);
    expect(report.incidentDuties.duties.map((d) => d.id).sort()).toEqual(['ccadb-irg-3', 'chrome-1.6', 'microsoft-2.1.18', 'mrsp-3.0']);
    const md = toMarkdown(report);
    expect(md).toMatch(
      /### Incident-report duties\n\nThe MUST deadline was missed for \d+ certificate\(s\)\. A separate delayed-revocation incident report is required: CCADB Incident Reporting Guidelines 3\.0\+/,
    );
    expect(toHtml(report)).toContain('class="incident-duties"');
    const before = await buildDigest(open.store, NOW, NOW - 7 * 86_400_000, { disclosures: null });
    expect(before.missingDelayedReports.map((m) => m.caseId)).toContain('demo-key-compromise');
    expect(formatDigest(before, 'text')).toContain('Missed deadlines without a known delayed-revocation report');
    await open.store.setDelayedReportUrl('demo-key-compromise', 'https://bugzilla.example/show_bug.cgi?id=2');
    const after = await buildDigest(open.store, NOW, NOW - 7 * 86_400_000, { disclosures: null });
    expect(after.missingDelayedReports.map((m) => m.caseId)).not.toContain('demo-key-compromise');
    const updated = await buildCaseReport(open.store, 'demo-key-compromise', NOW);
    expect(updated.case.delayedReportUrl).toBe('https://bugzilla.example/show_bug.cgi?id=2');
    expect(toMarkdown(updated)).toContain('| Delayed-revocation report | https://bugzilla.example/show_bug.cgi?id=2 |');
  });
});
