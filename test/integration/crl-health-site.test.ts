/**
 * The site's CRL-health pages end to end: a CCADB report built here (five
 * root CAs, real `openssl ca -gencrl` CRLs on 127.0.0.1, three owners), two
 * `revwatch sweep`s with the built CLI, `revwatch site`, and the pages opened
 * in a real headless Chromium (playwright-core, /usr/bin/chromium):
 *
 * - "Good Owner": one CRL, readable both times;
 * - a hostile owner name (`<script>`, quotes, `&`): two CRLs, one of them 404
 *   at the first sweep and served at the second (unreachable, then resolved);
 * - "Stale Owner": a CRL past its nextUpdate, and a URL holding `<script>` and
 *   quotes that is never served.
 *
 * The overview's chart has one point per sweep with the readable counts the
 * sweeps saw (3 of 5, then 4 of 5), its owners table has one row per owner
 * with the counts `crl-health --json` gives, and the owner pages list the open
 * and resolved findings `crl-health --json` lists; hostile text is escaped.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRL_HEALTH_INDEX } from '../../src/report/crl-health-site.js';
import { ownerPageName } from '../../src/report/site.js';
import { FaultServer } from '../helpers/fault-server.js';
import { OpensslCa, opensslAvailable } from '../helpers/openssl-ca.js';
import { type Ended, spawnRevwatch } from '../helpers/live-crl.js';
import { writeCcadbReports } from '../helpers/ccadb-reports.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const DAY = 86_400_000;
const HOSTILE_OWNER = `<script>alert('owner')</script> "Quoted" & Co`;
const GOOD = 'Good Owner';
const STALE = 'Stale Owner';
const run = opensslAvailable() ? describe : describe.skip;

interface HealthJson {
  owners: { owner: string; findings: { code: string; severity: string; url: string; resolvedAt: string | null }[] }[];
}

run('the CRL-health pages of the site, swept from real CRLs, in a browser', { timeout: 300_000 }, () => {
  const http = new FaultServer();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-health-site-'));
  const work = mkdtempSync(join(tmpdir(), 'revwatch-health-site-work-'));
  const siteDir = join(work, 'site');
  const cas: OpensslCa[] = [];
  let browser: Browser;
  let hostileUrl = '';
  let health: HealthJson;

  const cli = (...args: string[]): Promise<Ended> => spawnRevwatch(home, args);
  const serve = (path: string, bytes: Buffer): void => {
    http.route(path, (_req, res) => res.end(bytes));
  };

  beforeAll(async () => {
    await http.start();
    const now = Date.now();
    const ca = (key: string): OpensslCa => {
      const made = new OpensslCa(http.url(`/${key}`), `Health ${key} CA`).init('ec');
      cas.push(made);
      return made;
    };
    const good = ca('good');
    const h1 = ca('h1');
    const h2 = ca('h2');
    const stale = ca('stale');
    const lost = ca('lost');
    serve('/good/ca.crl', good.crl(now - 60_000, now + 7 * DAY));
    serve('/h1/ca.crl', h1.crl(now - 60_000, now + 7 * DAY));
    // /h2/ca.crl is served only after the first sweep.
    serve('/stale/ca.crl', stale.crl(now - 20 * DAY, now - DAY));
    hostileUrl = `${http.url('/lost/ca.crl')}?q=<script>alert("url")</script>&x='1'`;
    const h2Crl = h2.crl(now - 60_000, now + 7 * DAY);

    const disclosed = (c: OpensslCa, owner: string, full: string) => ({
      owner,
      name: c.name,
      pem: readFileSync(c.path('ca.pem'), 'utf8'),
      fullCrls: [full],
    });
    writeCcadbReports(work, [
      disclosed(good, GOOD, http.url('/good/ca.crl')),
      disclosed(h1, HOSTILE_OWNER, http.url('/h1/ca.crl')),
      disclosed(h2, HOSTILE_OWNER, http.url('/h2/ca.crl')),
      disclosed(stale, STALE, http.url('/stale/ca.crl')),
      disclosed(lost, STALE, hostileUrl),
    ]);

    const imported = await cli('ccadb', 'import', work);
    expect(imported.code, imported.stderr).toBe(0);
    const first = await cli('--json', 'sweep');
    expect(JSON.parse(first.stdout)).toMatchObject({ sweep: 1, urls: 5, faults: 2 });
    serve('/h2/ca.crl', h2Crl);
    const second = await cli('--json', 'sweep');
    expect(JSON.parse(second.stdout)).toMatchObject({ sweep: 2, urls: 5, faults: 1 });
    const h = await cli('--json', 'crl-health', '--since', new Date(now - DAY).toISOString());
    expect(h.code, h.stderr).toBe(0);
    health = JSON.parse(h.stdout) as HealthJson;
    const built = await cli('site', '--out', siteDir);
    expect(built.code, built.stderr).toBe(0);

    mkdirSync(ARTIFACTS, { recursive: true });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    for (const c of cas) await c.dispose();
    await http.stop();
  });

  async function open(path: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
    await page.goto(`file://${join(siteDir, path)}`);
    return { page, errors };
  }

  const findingsOf = (owner: string) => health.owners.find((o) => o.owner === owner)?.findings ?? [];

  it('draws the overview chart with one point per sweep and the readable counts the sweeps saw', async () => {
    const { page, errors } = await open(CRL_HEALTH_INDEX);
    const chart = page.locator('svg.availability-chart:not(.compact)');
    await expect(chart.count()).resolves.toBe(1);
    const box = await chart.boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    expect(box!.height).toBeGreaterThan(150);
    const all = chart.locator('g.availability-series[data-series="all owners"]');
    expect(await all.getAttribute('data-points')).toBe('2');
    const points = await all
      .locator('circle.availability-point')
      .evaluateAll((cs) =>
        cs.map((c) => `${c.getAttribute('data-sweep')}: ${c.getAttribute('data-readable')} of ${c.getAttribute('data-urls')}`),
      );
    expect(points).toEqual(['1: 3 of 5', '2: 4 of 5']);
    // The line is drawn and rises from sweep 1 to sweep 2 (SVG y grows downwards).
    const d = (await all.locator('path.availability-line').getAttribute('d'))!;
    const ys = [...d.matchAll(/[ML] [\d.]+ ([\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys).toHaveLength(2);
    expect(ys[1]!).toBeLessThan(ys[0]!);
    const lineBox = await all.locator('path.availability-line').boundingBox();
    expect(lineBox!.width).toBeGreaterThan(100);
    // The owners below 100 % get their own line; Good Owner does not.
    const series = await chart.locator('g.availability-series').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-series')));
    // Lowest mean share first: Stale Owner (1 of 2 twice), then the hostile owner (1 of 2, then 2 of 2).
    expect(series).toEqual(['all owners', STALE, HOSTILE_OWNER]);
    expect(await page.locator('[data-stat="readable"]').textContent()).toContain('4 of 5 CRL URLs readable at the last sweep');
    await page.screenshot({ path: join(ARTIFACTS, 'crl-health-overview.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('tables every owner with the counts crl-health --json gives', async () => {
    const { page } = await open(CRL_HEALTH_INDEX);
    const rows = await page.locator('table#owners tbody tr.owner').evaluateAll((trs) =>
      trs.map((tr) => {
        const text = (cls: string) => tr.querySelector(`td.${cls}`)?.textContent ?? '';
        return {
          owner: tr.getAttribute('data-owner')!,
          readable: text('readable'),
          violations: Number(text('open-violations')),
          warnings: Number(text('open-warnings')),
          resolved: Number(text('resolved')),
          sparkline: tr.querySelector('svg.availability-chart.compact circle.availability-point') !== null,
        };
      }),
    );
    const expected = [GOOD, HOSTILE_OWNER, STALE]
      .sort((a, b) => (a < b ? -1 : 1))
      .map((owner) => {
        const fs = findingsOf(owner);
        return {
          owner,
          readable: { [GOOD]: '1 of 1', [HOSTILE_OWNER]: '2 of 2', [STALE]: '1 of 2' }[owner],
          violations: fs.filter((f) => f.resolvedAt === null && f.severity === 'violation').length,
          warnings: fs.filter((f) => f.resolvedAt === null && f.severity === 'warning').length,
          resolved: fs.filter((f) => f.resolvedAt !== null).length,
          sparkline: true,
        };
      });
    expect(rows).toEqual(expected);
    // What the sweeps found, independently of crl-health: the hostile owner's 404 resolved, the stale owner's open.
    expect(rows.find((r) => r.owner === HOSTILE_OWNER)).toMatchObject({ violations: 0, resolved: 1 });
    expect(rows.find((r) => r.owner === STALE)!.violations).toBeGreaterThanOrEqual(2);
    await page.close();
  });

  it("opens an owner's page from the overview, with its open and resolved findings and the chart", async () => {
    const { page, errors } = await open(CRL_HEALTH_INDEX);
    await page.locator('table#owners tr.owner', { hasText: STALE }).locator('a.owner-link').click();
    expect(page.url()).toContain(`crl-health/owners/${ownerPageName(STALE)}`);
    expect(await page.locator('h1').textContent()).toBe(`${STALE}: CRL health`);
    const chart = page.locator('svg.availability-chart');
    expect((await chart.boundingBox())!.width).toBeGreaterThan(300);
    expect(
      await chart
        .locator('circle.availability-point')
        .evaluateAll((cs) => cs.map((c) => `${c.getAttribute('data-readable')} of ${c.getAttribute('data-urls')}`)),
    ).toEqual(['1 of 2', '1 of 2']);
    const openRows = await page
      .locator('table#open-findings tbody tr')
      .evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-code')} ${tr.getAttribute('data-url')}`));
    const expected = findingsOf(STALE)
      .filter((f) => f.resolvedAt === null)
      .map((f) => `${f.code} ${f.url}`);
    expect(openRows.sort()).toEqual(expected.sort());
    expect(openRows).toContain(`crl_unreachable ${hostileUrl}`);
    expect(openRows).toContain(`crl_stale ${http.url('/stale/ca.crl')}`);
    // Each row names its citation and when it was first and last seen.
    const first = page.locator('table#open-findings tbody tr').first();
    expect(await first.locator('td[data-label="Citation"]').textContent()).toMatch(/BR|RFC|CCADB/);
    expect(await first.locator('td[data-label="First seen"]').textContent()).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await page.locator('#resolved-findings').textContent()).toBe('No resolved findings.');
    await page.screenshot({ path: join(ARTIFACTS, 'crl-health-owner.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows the hostile owner as text, its 404 as resolved, and links the unreachable URL nowhere unsafe', async () => {
    const html = readFileSync(join(siteDir, 'crl-health', 'owners', ownerPageName(HOSTILE_OWNER)), 'utf8');
    expect(html).not.toContain("<script>alert('owner')");
    expect(html).toContain("&lt;script&gt;alert('owner')&lt;/script&gt; &quot;Quoted&quot; &amp; Co");
    const overview = readFileSync(join(siteDir, CRL_HEALTH_INDEX), 'utf8');
    expect(overview).not.toMatch(/<script>alert/);
    const { page, errors } = await open(`crl-health/owners/${ownerPageName(HOSTILE_OWNER)}`);
    expect(await page.locator('h1').textContent()).toBe(`${HOSTILE_OWNER}: CRL health`);
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('#open-findings').textContent()).toBe('No open findings.');
    const resolved = await page
      .locator('table#resolved-findings tbody tr')
      .evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-code')} ${tr.getAttribute('data-url')}`));
    expect(resolved).toEqual([`crl_unreachable ${http.url('/h2/ca.crl')}`]);
    expect(errors).toEqual([]);
    await page.close();

    // The stale owner's page holds the hostile URL: as text and an escaped link, never markup.
    const stalePage = await open(`crl-health/owners/${ownerPageName(STALE)}`);
    const link = stalePage.page.locator('table#open-findings a.crl-url', { hasText: '<script>' });
    expect(await link.textContent()).toBe(hostileUrl);
    expect(await stalePage.page.locator('script').count()).toBe(0);
    await stalePage.page.close();
  });

  it('links the CRL-health overview from the index', async () => {
    const { page } = await open('index.html');
    await page.locator('a.crl-health-link').click();
    expect(page.url()).toMatch(/crl-health\/index\.html$/);
    expect(await page.locator('h1').textContent()).toBe('CRL health across CA owners');
    await page.close();
  });
});
