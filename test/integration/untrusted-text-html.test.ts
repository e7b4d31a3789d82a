/**
 * Untrusted text in what revwatch writes (issue #23 keeps these passing):
 * - a subject CN and a case title holding `<script>`, `"`, `'` and `&` come out
 *   escaped in `report --format html` and in every page `site` writes: no tag,
 *   no attribute break-out;
 * - a case title with CR or LF is refused by `track` with one line and exit 1,
 *   nothing written (docs/cli.md, `--title`); and `status` prints a title that
 *   holds one anyway (an older home) on one line, so no output line is forged.
 * - a hostile CA owner name and CRL URL in the sweep's state come out escaped
 *   in the site's CRL-health pages, and a non-http URL is never a link;
 * Runs the CLI's run() in-process on a fresh embedded home; loopback only (the
 * OCSP URL is never fetched).
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { run } from '../../src/cli/main.js';
import { trackCertificates } from '../../src/track/track.js';
import { SweepStateFile } from '../../src/adapters/local/sweep-state-file.js';
import type { HealthFindingState } from '../../src/ports/revocation-index.js';
import { ownerPageName } from '../../src/report/site.js';
import { DAY, T0, testCa } from '../unit/check/world.js';

const CN = `<script>alert('cn')</script> \\"x\\" & co`;
const TITLE = `<img src=x onerror=alert(1)> "quoted" 'single' & more`;

function setup() {
  const home = mkdtempSync(join(tmpdir(), 'revwatch-untrusted-text-'));
  const clock = new FakeClock(T0 + DAY);
  const cli = async (...argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const code = await run(['--home', home, ...argv], {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
      env: {},
      clock,
    });
    return { code, stdout, stderr };
  };
  return { home, clock, cli };
}

async function leafAndCa(home: string, subject: string) {
  const ca = await testCa();
  const leaf = await ca.issue({ subject, notBefore: T0 - DAY, notAfter: T0 + 90 * DAY, ocspUrls: ['http://127.0.0.1:9/ocsp'] });
  writeFileSync(join(home, 'leaf.der'), leaf.info.der);
  writeFileSync(join(home, 'ca.der'), ca.info.der);
  return { ca, leaf };
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });

/** The hostile strings must not appear raw; their escaped forms must. */
function expectEscaped(html: string, where: string): void {
  expect(html, where).not.toMatch(/<script\\?>alert|<img src=x/);
  expect(html, where).not.toMatch(/"quoted"|& more|& co/);
  expect(html, where).toContain('&lt;img src=x onerror=alert(1)&gt;');
  expect(html, where).toMatch(/&lt;script\\?&gt;alert\((&#39;|&#x27;|&apos;|')cn/);
  expect(html, where).toMatch(/(&quot;|&#34;|&#x22;)quoted(&quot;|&#34;|&#x22;)/);
  expect(html, where).toContain('&amp; more');
}

describe('untrusted text in reports, the site and the terminal', () => {
  it('a hostile CN and title come out escaped in report --format html and every site page', async () => {
    const { home, cli } = setup();
    const { leaf } = await leafAndCa(home, `CN=${CN}`);
    // The subject is shown in RFC 4514 form, where < and > are backslash-escaped: the HTML escape comes on top.
    expect(leaf.info.subject).toMatch(/\\?<script\\?>/);
    const tracked = await cli(
      'track',
      join(home, 'leaf.der'),
      '--issuer',
      join(home, 'ca.der'),
      '--case',
      'hostile',
      '--reported-at',
      new Date(T0).toISOString(),
      '--reason',
      'key-compromise',
      '--title',
      TITLE,
    );
    expect(tracked.code, tracked.stderr).toBe(0);

    const reportPath = join(home, 'report.html');
    const report = await cli('report', '--case', 'hostile', '--format', 'html', '--out', reportPath);
    expect(report.code, report.stderr).toBe(0);
    const reportHtml = readFileSync(reportPath, 'utf8');
    expectEscaped(reportHtml, 'report.html');

    const site = join(home, 'site');
    const written = await cli('site', '--out', site);
    expect(written.code, written.stderr).toBe(0);
    const pages = filesUnder(site).filter((p) => p.endsWith('.html'));
    expect(pages.length).toBeGreaterThan(1);
    const all = pages.map((p) => readFileSync(p, 'utf8'));
    for (const [i, html] of all.entries()) expect(html, pages[i]).not.toMatch(/<script\\?>alert|<img src=x/);
    // The case page shows both the title and the CN.
    const casePage = all.find((html) => html.includes('onerror=alert(1)'));
    expect(casePage, 'no site page shows the case title').toBeDefined();
    expectEscaped(all.filter((html) => html.includes('onerror=alert(1)')).join('\n'), 'site');
  });

  it('a hostile CA owner and CRL URL from the sweep come out escaped in the CRL-health pages', async () => {
    const { home, cli } = setup();
    const owner = TITLE;
    const url = `http://crl.example/a.crl?<script>alert('cn')</script>&"quoted"`;
    const scriptUrl = 'javascript:alert(1)';
    const finding = (code: string, u: string, who: string, resolvedAt: number | null): HealthFindingState => ({
      code,
      owner: who,
      url: u,
      subject: '',
      message: `${CN} at ${u}`,
      firstSeen: T0,
      lastSeen: T0 + DAY,
      resolvedAt,
    });
    const run = (sweep: number, at: number) => ({
      sweep,
      startedAt: at,
      finishedAt: at + 1000,
      urls: 3,
      changed: 1,
      unchanged: 0,
      faults: 2,
      availability: { [owner]: { urls: 2, readable: 1, unreachable: 1 }, ['__proto__']: { urls: 1, readable: 0, unreachable: 1 } },
    });
    await new SweepStateFile(home).save({
      sweeps: [run(1, T0), run(2, T0 + DAY)],
      urls: {},
      issuers: {},
      health: {
        a: finding('crl_unreachable', url, owner, null),
        b: finding('crl_not_der', scriptUrl, owner, T0 + DAY),
        c: finding('crl_unreachable', url, '__proto__', null),
      },
    });
    const site = join(home, 'site');
    const written = await cli('site', '--out', site);
    expect(written.code, written.stderr).toBe(0);
    const pages = filesUnder(join(site, 'crl-health')).filter((p) => p.endsWith('.html'));
    // The overview and one page per owner, "__proto__" included.
    expect(pages.map((p) => p.slice(site.length + 1)).sort()).toEqual(
      ['crl-health/index.html', `crl-health/owners/${ownerPageName(owner)}`, `crl-health/owners/${ownerPageName('__proto__')}`].sort(),
    );
    for (const page of pages) {
      const html = readFileSync(page, 'utf8');
      expect(html, page).not.toMatch(/<script\\?>alert|<img src=x|href="javascript:/i);
      expect(html, page).not.toMatch(/"quoted"|& more|& co/);
    }
    const ownerPage = readFileSync(join(site, 'crl-health', 'owners', ownerPageName(owner)), 'utf8');
    expectEscaped(ownerPage, 'owner page');
    expect(ownerPage).toContain(`href="http://crl.example/a.crl?&lt;script&gt;alert('cn')&lt;/script&gt;&amp;&quot;quoted&quot;"`);
    expect(ownerPage).toContain('<code class="crl-url">javascript:alert(1)</code>');
    const overview = readFileSync(join(site, 'crl-health', 'index.html'), 'utf8');
    expect(overview).toContain('data-owner="&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; \'single\' &amp; more"');
    expect(overview).toContain('data-owner="__proto__"');
  });

  it.each([
    ['LF', 'Title\nforged: line'],
    ['CR LF', 'Title\r\nBcc: mallory@evil.example'],
    ['CR', 'Title\roverwritten'],
  ])('track refuses a title with %s: one line, exit 1, no case written', async (_name, title) => {
    const { home, cli } = setup();
    await leafAndCa(home, 'CN=crlf.example');
    const tracked = await cli(
      'track',
      join(home, 'leaf.der'),
      '--issuer',
      join(home, 'ca.der'),
      '--case',
      'crlf',
      '--reported-at',
      new Date(T0).toISOString(),
      '--reason',
      'key-compromise',
      '--title',
      title,
    );
    expect(tracked.code).toBe(1);
    expect(tracked.stderr).toMatch(/--title .*control/);
    expect(tracked.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(tracked.stderr).not.toMatch(/[\r]|\n(?!$)/);
    const status = await cli('--json', 'status');
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { cases: unknown[] }).cases).toEqual([]);
  });

  it('status prints a stored title holding CR/LF on one line: no forged output line', async () => {
    const { home, clock, cli } = setup();
    const { ca, leaf } = await leafAndCa(home, 'CN=stored.example');
    const open = await openEmbeddedStore(home);
    try {
      await trackCertificates(
        { store: open.store, clock },
        { id: 'stored', title: 'Old title\r\nforged: line', reportedAt: T0, reason: 'key-compromise', kind: 'tls-subscriber' },
        [{ certificate: leaf.info, bundle: [], source: 'test' }],
        [ca.info],
      );
    } finally {
      await open.close();
    }
    const status = await cli('status');
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).not.toMatch(/^forged: line/m);
    expect(status.stdout).not.toContain('\r');
    expect(status.stdout).toContain('stored  Old title\\r\\nforged: line');
  });
});
