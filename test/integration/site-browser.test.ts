/**
 * The HTML report and the static site in a real headless Chromium
 * (playwright-core, /usr/bin/chromium): no console errors; the chart's
 * deadline, now and legend elements carry the right labels; the step line
 * ends at the revoked share; a 100,000-certificate case stays under 5 MB,
 * aggregated (its load time printed, not asserted); index and case pages link to each other from file://.
 * The index's overview counts equal `status --json`'s; axe-core finds no serious
 * or critical accessibility violation on the index, a CA owner's page, a case
 * page or the HTML report; at 375 px wide no page scrolls sideways.
 * Screenshots go to test-artifacts/ (gitignored), kept for a person to look at.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { CaseReport, ReportCertificate } from '../../src/report/case-report.js';
import { createRequire } from 'node:module';
import { jsonStatusSink, streamStatus } from '../../src/status/status.js';
import { toHtml } from '../../src/report/html.js';
import { buildSite, casePageName } from '../../src/report/site.js';
import { iso } from '../../src/time.js';
import { DAY, HOUR, makeWorld, T0, type World } from '../unit/check/world.js';

const CHROMIUM = '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}
const ARTIFACTS = join(process.cwd(), 'test-artifacts');

/** A case report made up directly (no store): `n` certificates, revoked at `revokedAt(i)` or never (null). */
function syntheticReport(n: number, revokedAt: (i: number) => number | null, now: number): CaseReport {
  const deadline = T0 + DAY;
  const certificates: ReportCertificate[] = [];
  for (let i = 0; i < n; i++) {
    const at = revokedAt(i);
    const serial = (0x100000 + i).toString(16);
    certificates.push({
      sha256: serial.padStart(64, '0'),
      serial,
      subject: `CN=host${i}.example`,
      issuer: 'CN=Big CA',
      notBefore: iso(T0 - 30 * DAY),
      notAfter: iso(T0 + 60 * DAY),
      deadline: iso(deadline),
      shouldDeadline: null,
      verdict: at === null ? 'overdue' : at <= deadline ? 'revoked_on_time' : 'revoked_late',
      revocationTime: at === null ? null : iso(at),
      effectiveRevocationTime: at === null ? null : iso(at),
      reasonCode: at === null ? null : 'keyCompromise',
      firstSeenRevokedAt: at === null ? null : iso(at + HOUR),
      lastSeenGoodAt: iso(T0),
      lateBySeconds: at === null ? Math.floor((now - deadline) / 1000) : at > deadline ? Math.floor((at - deadline) / 1000) : null,
      sources: [],
      findings: [],
      crtshUrl: `https://crt.sh/?q=${serial}`,
      issuerSha256: 'ab'.repeat(32),
      subjectCN: `host${i}.example`,
      sans: [`host${i}.example`],
      reportToRevocationSeconds: at === null ? null : Math.floor((at - T0) / 1000),
      observations: [],
    });
  }
  const revoked = certificates.filter((c) => c.revocationTime !== null);
  return {
    generatedAt: iso(now),
    case: {
      id: `synthetic-${n}`,
      title: `Synthetic case of ${n} certificates`,
      reportedAt: iso(T0),
      confirmedAt: null,
      reason: 'key-compromise',
      kind: 'tls-subscriber',
      reportUrl: 'https://bugzilla.example/show_bug.cgi?id=100000',
      notifiedBy: null,
      delayedReportUrl: null,
    },
    rule: {
      id: 'tls-sc6-24h',
      section: 'BR 4.9.1.1',
      version: '1.6.1',
      effectiveFrom: null,
      source: 'test',
      mustHours: 24,
      shouldHours: null,
      note: null,
      interpretation: null,
    },
    incidentDuties: { missed: 0, duties: [], statement: '' },
    deadline: iso(deadline),
    shouldDeadline: null,
    counts: {
      total: n,
      revoked: revoked.length,
      revokedOnTime: certificates.filter((c) => c.verdict === 'revoked_on_time').length,
      revokedLate: certificates.filter((c) => c.verdict === 'revoked_late').length,
      notYetRevoked: n - revoked.length,
      overdue: n - revoked.length,
      expired: 0,
      undetermined: 0,
    },
    certificates,
    findings: [],
    crls: [],
    timeline: [
      { at: iso(T0), event: 'Problem reported to the CA' },
      { at: iso(now), event: 'Now: this report' },
    ],
    impact: {
      certificates: n,
      issuers: [{ name: 'CN=Big CA', certificates: n }],
      earliestNotBefore: iso(T0 - 30 * DAY),
      latestNotAfter: iso(T0 + 60 * DAY),
    },
    firstSeenRevoked: [],
    lastSeenGood: [],
    lastCheckedAt: iso(now),
    failingSources: [],
    issuers: [],
    certificateDers: [],
  };
}

describe.skipIf(!existsSync(CHROMIUM))('HTML report and site in headless Chromium', () => {
  let browser: Browser;
  let w: World;
  let siteDir: string;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
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
    // Two cases in one store: c1 (on time, late, never) and c2 (misissuance, SHOULD and MUST deadlines).
    w = await makeWorld([{ name: 'on-time', dnsNames: ['on-time.example'] }, { name: 'late' }, { name: 'never' }], {
      reportUrl: 'https://bugzilla.example/show_bug.cgi?id=1',
    });
    await w.store.createCase(
      {
        id: 'c2',
        title: 'Misissuance at Unit CA',
        reportedAt: T0,
        reason: 'misissuance',
        kind: 'tls-subscriber',
        reportUrl: 'https://bugzilla.example/show_bug.cgi?id=2',
      },
      T0,
    );
    await w.store.addCertificates((await w.store.loadCase('c1')).map((c) => ({ ...c.cert, caseId: 'c2' })));
    await w.check();
    w.clock.set(T0 + 2 * HOUR);
    w.fetcher.revoke(w.certs['on-time']!.serial, T0 + HOUR, 1);
    await w.check();
    w.clock.set(T0 + 31 * HOUR);
    w.fetcher.revoke(w.certs.late!.serial, T0 + 30 * HOUR, 1);
    await w.check();
    w.clock.set(T0 + 2 * DAY);
    siteDir = mkdtempSync(join(tmpdir(), 'revwatch-site-'));
    for (const f of await buildSite(w.store, w.clock.now().getTime(), { disclosures: null })) {
      mkdirSync(join(siteDir, f.path, '..'), { recursive: true });
      writeFileSync(join(siteDir, f.path), f.bytes);
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function open(path: string, width = 1280): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(`file://${path}`);
    return { page, errors };
  }

  /** axe-core's serious and critical violations on the open page (the page itself carries no script). */
  async function seriousViolations(page: Page): Promise<string[]> {
    await page.addScriptTag({ path: AXE });
    const violations = (await page.evaluate('axe.run(document).then((r) => r.violations)')) as AxeViolation[];
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  /** How far the page reaches past the viewport sideways (0: no horizontal scrolling). */
  const sidewaysOverflow = (page: Page): Promise<number> =>
    page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as Promise<number>;

  /** The share the step line ends at, read from the drawing: its last point against the 0 % and 100 % grid lines. */
  async function drawnEndShare(page: Page, chart = 'svg.revocation-chart'): Promise<number> {
    const svg = page.locator(chart).first();
    const d = (await svg.locator('path.revoked-step').getAttribute('d'))!;
    const vs = [...d.matchAll(/V (-?[\d.]+)/g)].map((m) => Number(m[1]));
    const start = Number(/^M [\d.]+ ([\d.]+)/.exec(d)![1]);
    const end = vs.length ? vs[vs.length - 1]! : start;
    const grid: number[] = [];
    for (const line of await svg.locator('line.grid').all()) grid.push(Number(await line.getAttribute('y1')));
    const y0 = Math.max(...grid);
    const y100 = Math.min(...grid);
    return (y0 - end) / (y0 - y100);
  }

  it('case page: no console errors; MUST, SHOULD, now and legend labelled; the step ends at the revoked share; bug link and timeline', async () => {
    const { page, errors } = await open(join(siteDir, 'cases', casePageName('c2')));
    expect(errors).toEqual([]);
    const chart = page.locator('svg.revocation-chart').first();
    expect(await chart.locator('.deadline-must .marker-label').textContent()).toMatch(/^MUST \d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/);
    expect(await chart.locator('.deadline-should .marker-label').textContent()).toMatch(/^SHOULD /);
    expect(await chart.locator('.now-line .marker-label').textContent()).toMatch(/^now /);
    expect(await chart.locator('.legend .legend-item text').allTextContents()).toEqual([
      'revoked (cumulative share)',
      'SHOULD deadline',
      'MUST deadline',
      'now',
    ]);
    expect(await chart.locator('title').first().textContent()).toBe('Share of the 3 certificates revoked over time');
    expect(await chart.locator('desc').textContent()).toMatch(/2 of 3 certificates \(66\.7 %\) were revoked/);
    expect(await drawnEndShare(page)).toBeCloseTo(2 / 3, 2);
    expect(await chart.locator('.x-tick-label').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('#chart-data tbody tr').count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('#chart-data tbody tr', { hasText: 'now' }).locator('td').nth(3).textContent()).toBe('66.7 %');
    expect(await page.locator('a.bug-link').getAttribute('href')).toBe('https://bugzilla.example/show_bug.cgi?id=2');
    expect(await page.locator('#timeline li').count()).toBeGreaterThanOrEqual(5);
    await page.screenshot({ path: join(ARTIFACTS, 'site-case.png'), fullPage: true });
    await page.close();
  });

  it('index: every case with counts, deadline and a small chart; links to each case and back work from file://', async () => {
    const { page, errors } = await open(join(siteDir, 'index.html'));
    expect(errors).toEqual([]);
    expect(await page.locator('#cases tr.case').count()).toBe(2);
    const c1 = page.locator('tr.case[data-case="c1"]');
    expect(await c1.locator('[data-verdict="overdue"]').textContent()).toBe('overdue 1');
    expect(await c1.locator('a.bug-link').getAttribute('href')).toBe('https://bugzilla.example/show_bug.cgi?id=1');
    expect(await c1.locator('svg.revocation-chart.compact').count()).toBe(1);
    expect(await drawnEndShare(page, 'tr.case[data-case="c1"] svg')).toBeCloseTo(2 / 3, 2);
    await page.screenshot({ path: join(ARTIFACTS, 'site-index.png'), fullPage: true });
    await c1.locator('a.case-link').click();
    await page.waitForLoadState('load');
    expect(page.url()).toBe(`file://${join(siteDir, 'cases', 'c1.html')}`);
    expect(await page.locator('h1').textContent()).toBe('Key compromise at Unit CA');
    await page.locator('a.index-link').click();
    await page.waitForLoadState('load');
    expect(page.url()).toBe(`file://${join(siteDir, 'index.html')}`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("index: the overview's counts are status --json's; cases sorted most urgent first; badges say their verdict in words", async () => {
    let json = '';
    const sink = jsonStatusSink((chunk) => {
      json += chunk;
    });
    await streamStatus(w.store, w.clock.now().getTime(), sink);
    sink.end();
    const status = JSON.parse(json) as {
      cases: { id: string; certificates: { verdict: string; deadline: string | null; shouldDeadline: string | null }[] }[];
    };
    const verdicts = status.cases.flatMap((c) => c.certificates.map((x) => x.verdict));
    const overdue = verdicts.filter((v) => v === 'overdue').length;
    const missedCases = status.cases.filter((c) =>
      c.certificates.some((x) => ['overdue', 'expired_overdue', 'revoked_late'].includes(x.verdict)),
    ).length;
    expect(overdue).toBeGreaterThan(0);

    const { page, errors } = await open(join(siteDir, 'index.html'));
    expect(errors).toEqual([]);
    expect(await page.locator('[data-stat="overdue-certificates"] strong').textContent()).toBe(String(overdue));
    expect(await page.locator('[data-stat="cases-missed"] strong').textContent()).toBe(String(missedCases));
    // The next deadline: the soonest one still ahead for a certificate status calls pending (c2's 5-day MUST deadline).
    const now = w.clock.now().getTime();
    const ahead = status.cases
      .flatMap((c) => c.certificates)
      .filter((x) => x.verdict === 'pending')
      .flatMap((x) => [x.shouldDeadline, x.deadline])
      .filter((at): at is string => at !== null && Date.parse(at) > now)
      .sort();
    expect(ahead[0]).toBe(iso(T0 + 5 * DAY));
    expect(await page.locator('[data-stat="next-deadline"]').textContent()).toBe(
      `Next deadline: ${ahead[0]} (in 3 d), the MUST deadline of Misissuance at Unit CA`,
    );
    // c1 has an overdue certificate, c2 a deadline still ahead: c1 comes first.
    expect(await page.locator('#cases tr.case').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-case')))).toEqual(['c1', 'c2']);
    expect(await page.locator('#cases thead th').allTextContents()).toContain('Sources failing at the last check');
    expect(await page.locator('tr.case[data-case="c1"] td[data-label="Sources failing at the last check"]').textContent()).toBe(
      'none failing',
    );
    const badge = page.locator('tr.case[data-case="c1"] .badge[data-verdict="revoked_on_time"]');
    expect(await badge.textContent()).toBe('revoked on time 1');
    expect(await badge.evaluate('(e) => getComputedStyle(e).backgroundColor')).not.toBe('rgba(0, 0, 0, 0)');
    await page.close();
  });

  it('a page per CA owner lists its cases; index, owner and case pages pass axe-core and fit 375 px without sideways scrolling', async () => {
    const { page: index, errors } = await open(join(siteDir, 'index.html'));
    // One issuing CA behind both cases; its organisation (O=) names the owner.
    const owners = await index.locator('#owners a.owner-link').allTextContents();
    expect(owners).toHaveLength(1);
    await index.locator('#owners a.owner-link').first().click();
    await index.waitForLoadState('load');
    expect(await index.locator('h1').textContent()).toBe(owners[0]);
    expect(await index.locator('#cases tr.case').count()).toBe(2);
    const ownerPage = index.url().replace(/^file:\/\//, '');
    expect(errors).toEqual([]);
    await index.close();

    const pages = { index: join(siteDir, 'index.html'), owner: ownerPage, case: join(siteDir, 'cases', casePageName('c1')) };
    for (const [name, path] of Object.entries(pages)) {
      const wide = await open(path);
      expect(await seriousViolations(wide.page), name).toEqual([]);
      await wide.page.close();
      const narrow = await open(path, 375);
      expect(narrow.errors).toEqual([]);
      expect(await sidewaysOverflow(narrow.page), `${name} at 375 px`).toBeLessThanOrEqual(0);
      expect(await seriousViolations(narrow.page), `${name} at 375 px`).toEqual([]);
      await narrow.page.screenshot({ path: join(ARTIFACTS, `site-${name}-375px.png`), fullPage: true });
      await narrow.page.close();
    }
    for (const name of Object.keys(pages)) expect(existsSync(join(ARTIFACTS, `site-${name}-375px.png`))).toBe(true);
  });

  it('the axe-core check sees violations where there are some', async () => {
    const path = join(ARTIFACTS, 'axe-self-check.html');
    writeFileSync(
      path,
      '<!doctype html><html lang="en"><head><title>x</title></head><body><main><p style="color:#bbb">faint</p><button></button></main></body></html>',
    );
    const { page } = await open(path);
    const found = await seriousViolations(page);
    expect(found.some((v) => v.includes('color-contrast'))).toBe(true);
    expect(found.some((v) => v.includes('button-name'))).toBe(true);
    await page.close();
  });

  it('the HTML report (revwatch report --format html) passes axe-core and fits 375 px', async () => {
    const report = syntheticReport(120, (i) => (i % 3 === 2 ? null : T0 + (i % 40) * HOUR), T0 + 3 * DAY);
    const path = join(ARTIFACTS, 'report-html.html');
    writeFileSync(path, toHtml(report));
    const { page, errors } = await open(path);
    expect(errors).toEqual([]);
    expect(await seriousViolations(page)).toEqual([]);
    expect(await page.locator('table#summary').count()).toBe(1);
    expect(await page.locator('table#verdicts').count()).toBe(0);
    await page.close();
    const narrow = await open(path, 375);
    expect(await sidewaysOverflow(narrow.page)).toBeLessThanOrEqual(0);
    await narrow.page.screenshot({ path: join(ARTIFACTS, 'report-html-375px.png'), fullPage: true });
    await narrow.page.close();
  });

  it('all revocations at one instant: one rise, readable axis, ends at the share', async () => {
    const report = syntheticReport(50, (i) => (i < 40 ? T0 + 5 * HOUR : null), T0 + 3 * DAY);
    const path = join(ARTIFACTS, 'one-instant.html');
    writeFileSync(path, toHtml(report));
    const { page, errors } = await open(path);
    expect(errors).toEqual([]);
    const d = (await page.locator('path.revoked-step').getAttribute('d'))!;
    expect(d.match(/V /g)).toHaveLength(1);
    expect(await drawnEndShare(page)).toBeCloseTo(0.8, 2);
    // The rise sits well inside the plot (report to now spans the axis), not at its right edge.
    const rise = Number(/H ([\d.]+) V/.exec(d)![1]);
    expect(rise).toBeGreaterThan(80);
    expect(rise).toBeLessThan(400);
    expect(await page.locator('.x-tick-label').count()).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: join(ARTIFACTS, 'one-instant.png'), fullPage: true });
    await page.close();
  });

  it('100,000 certificates: under 5 MB, aggregated to at most 1,000 points and 1,000 rows', async () => {
    const n = 100_000;
    // Revocations spread over two days from the report, a tenth never revoked.
    const report = syntheticReport(n, (i) => (i % 10 === 9 ? null : T0 + Math.floor((i * 1_728_001) % (2 * DAY))), T0 + 4 * DAY);
    const html = toHtml(report);
    const bytes = Buffer.byteLength(html);
    expect(bytes).toBeLessThan(5 * 1024 * 1024);
    const path = join(ARTIFACTS, 'big-case.html');
    writeFileSync(path, html);
    const { page, errors } = await open(path);
    expect(errors).toEqual([]);
    const loadMs = Number(await page.evaluate('performance.getEntriesByType("navigation")[0].loadEventEnd'));
    // Printed, not asserted: speed is the benchmarks' to measure, and a shared machine's load is not the page's.
    console.log(`100,000-certificate case: page ${(bytes / 1024 / 1024).toFixed(2)} MB, load event at ${loadMs.toFixed(0)} ms`);
    expect(await page.locator('svg.revocation-chart circle.revocation-point').count()).toBeLessThan(1000);
    expect(await drawnEndShare(page)).toBeCloseTo(0.9, 2);
    expect(await page.locator('#certificates tbody tr').count()).toBe(1000);
    await page.screenshot({ path: join(ARTIFACTS, 'big-case.png') });
    await page.close();
  });
});
