/**
 * The site's CRL-health pages (`revwatch site`, from what `revwatch sweep`
 * keeps): crl-health/index.html, the overview, draws the share of CRL URLs
 * readable at each sweep (all owners, and the owners with the lowest share)
 * and tables every CA owner with its counts; crl-health/owners/<owner>.html
 * lists one owner's open findings (code, severity, citation, first and last
 * seen, URL) and resolved ones, under the owner's own chart. Every name, URL
 * and message comes from a CCADB report or a CA's server, so all of it is
 * escaped, and only http(s) URLs are made links.
 */
import type { SweepState } from '../ports/revocation-index.js';
import { availabilityHistory, healthReport, type AvailabilityPoint, type HealthFindingOut } from '../sweep/health-report.js';
import { iso } from '../time.js';
import { availabilityChartSvg, type AvailabilitySeries } from './availability-chart.js';
import type { BundleFile } from './bundle.js';
import { esc, safeHref, sitePage } from './html.js';
import { ownerPageName } from './site-names.js';

export const CRL_HEALTH_INDEX = 'crl-health/index.html';
/** The overview draws all owners and at most this many single owners (those with the lowest share), so it stays readable. */
const CHART_OWNERS = 5;

export interface OwnerHealthRow {
  readonly owner: string;
  /** At the last sweep that recorded availability: null when none did. */
  readonly last: AvailabilityPoint | null;
  readonly open: { readonly violation: number; readonly warning: number; readonly info: number };
  readonly resolved: number;
  readonly points: readonly AvailabilityPoint[];
  readonly findings: readonly HealthFindingOut[];
}

const ownerLabel = (owner: string): string => owner || '(no owner)';
const share = (p: AvailabilityPoint): number => (p.urls === 0 ? 1 : p.readable / p.urls);
const mean = (points: readonly AvailabilityPoint[]): number =>
  points.length ? points.reduce((s, p) => s + share(p), 0) / points.length : 1;

/** Every owner the sweep state knows: from the availability it recorded and from its findings, open or resolved. */
export function ownerHealthRows(state: SweepState): OwnerHealthRow[] {
  const history = availabilityHistory(state);
  // since 0: open and resolved findings alike.
  const report = healthReport(state, { since: 0 });
  const findings = new Map(report.owners.map((o) => [o.owner, o.findings]));
  const owners = [...new Set([...history.byOwner.keys(), ...findings.keys()])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lastSweep = history.all[history.all.length - 1]?.sweep;
  return owners.map((owner) => {
    const points = history.byOwner.get(owner) ?? [];
    const mine = findings.get(owner) ?? [];
    const open = { violation: 0, warning: 0, info: 0 };
    for (const f of mine) if (f.resolvedAt === null) open[f.severity as keyof typeof open]++;
    const last = points[points.length - 1];
    return {
      owner,
      last: last && last.sweep === lastSweep ? last : null,
      open,
      resolved: mine.filter((f) => f.resolvedAt !== null).length,
      points,
      findings: mine,
    };
  });
}

const cell = (label: string, html: string, cls = ''): string => `<td data-label="${label}"${cls ? ` class="${cls}"` : ''}>${html}</td>`;
const urlHtml = (url: string): string => {
  const href = safeHref(url);
  return href ? `<a class="crl-url" href="${href}">${esc(url)}</a>` : `<code class="crl-url">${esc(url)}</code>`;
};

function noSweep(): string {
  return '<p id="no-sweep">No sweep has run yet: <code>revwatch sweep</code> reads every CRL the CCADB discloses, and these pages show what it found.</p>';
}

export function crlHealthIndexHtml(state: SweepState, now: number): string {
  const last = state.sweeps[state.sweeps.length - 1];
  const nav = '<nav><a class="index-link" href="../index.html">&larr; all cases</a></nav>';
  if (!last) return sitePage('revwatch: CRL health', `${nav}\n<h1>CRL health across CA owners</h1>\n${noSweep()}`);
  const rows = ownerHealthRows(state);
  const history = availabilityHistory(state);
  const lowest = rows
    .filter((r) => r.points.some((p) => p.readable < p.urls))
    .sort((a, b) => mean(a.points) - mean(b.points) || (a.owner < b.owner ? -1 : 1))
    .slice(0, CHART_OWNERS);
  const series: AvailabilitySeries[] = [
    { label: 'all owners', points: history.all },
    ...lowest.map((r) => ({ label: ownerLabel(r.owner), points: r.points })),
  ];
  const lastAll = history.all[history.all.length - 1];
  const openTotal = rows.reduce((n, r) => n + r.open.violation + r.open.warning + r.open.info, 0);
  const table = rows
    .map((r, i) => {
      const counts = (n: number, cls: string): string => (n ? `<span class="${cls}">${n}</span>` : '0');
      return `<tr class="owner" data-owner="${esc(r.owner)}">${cell('CA owner', `<a class="owner-link" href="owners/${esc(ownerPageName(r.owner))}">${esc(ownerLabel(r.owner))}</a>`)}${cell('CRL URLs', r.last ? String(r.last.urls) : 'not swept')}${cell('Readable at the last sweep', r.last ? `${r.last.readable} of ${r.last.urls}` : 'not swept', r.last && r.last.readable < r.last.urls ? 'bad readable' : 'readable')}${cell('Open violations', counts(r.open.violation, 'bad'), 'open-violations')}${cell('Open warnings', String(r.open.warning), 'open-warnings')}${cell('Open info', String(r.open.info), 'open-info')}${cell('Resolved', String(r.resolved), 'resolved')}${cell('Readable over time', r.points.length ? availabilityChartSvg([{ label: ownerLabel(r.owner), points: r.points }], { compact: true, id: `o${i}` }) : 'no sweep recorded')}</tr>`;
    })
    .join('\n');
  return sitePage(
    'revwatch: CRL health',
    `${nav}
<h1>CRL health across CA owners</h1>
<p>Generated by revwatch at ${iso(now)} from ${state.sweeps.length} sweep(s) of the CRLs the CCADB discloses; the last, sweep ${last.sweep}, started ${iso(last.startedAt)}. CCADB Policy 2.1 §6.2: every disclosed CRL is retrievable at all times.</p>
<section id="overview" aria-label="At a glance">
<p class="stat${lastAll && lastAll.readable < lastAll.urls ? ' alert' : ''}" data-stat="readable">${lastAll ? `<strong>${lastAll.readable.toLocaleString('en-US')}</strong> of ${lastAll.urls.toLocaleString('en-US')} CRL URLs readable at the last sweep` : 'no sweep recorded availability'}</p>
<p class="stat${openTotal ? ' alert' : ''}" data-stat="open-findings"><strong>${openTotal.toLocaleString('en-US')}</strong> open finding(s)</p>
<p class="stat" data-stat="owners"><strong>${rows.length.toLocaleString('en-US')}</strong> CA owner(s)</p>
</section>
<h2>Readable CRL URLs over time</h2>
<p>At each sweep, the share of CRL URLs where a verified CRL stood after the read: every owner together${lowest.length ? `, and the ${lowest.length} owner(s) with the lowest share` : ''}.${history.unrecorded ? ` ${history.unrecorded} earlier sweep(s) did not record it and have no point.` : ''}</p>
${availabilityChartSvg(series, { id: 'availability' })}
<h2>CA owners</h2>
<table id="owners" class="cards"><caption>Every CA owner the sweeps found, by name: its CRL URLs at the last sweep and its CRL-health findings.</caption><thead><tr><th scope="col">CA owner</th><th scope="col">CRL URLs</th><th scope="col">Readable at the last sweep</th><th scope="col">Open violations</th><th scope="col">Open warnings</th><th scope="col">Open info</th><th scope="col">Resolved</th><th scope="col">Readable over time</th></tr></thead><tbody>
${table}
</tbody></table>`,
  );
}

function findingsTable(id: string, caption: string, findings: readonly HealthFindingOut[], resolved: boolean): string {
  if (findings.length === 0) return `<p id="${id}" class="none">${resolved ? 'No resolved findings.' : 'No open findings.'}</p>`;
  const rows = findings
    .map(
      (f) =>
        `<tr class="finding ${esc(f.severity)}" data-code="${esc(f.code)}" data-url="${esc(f.url)}">${cell('Severity', `<strong>${esc(f.severity)}</strong>`, 'severity')}${cell('Code', `<code>${esc(f.code)}</code>`, 'code')}${cell('CRL URL', urlHtml(f.url))}${cell('What', `${esc(f.message)}${f.subject ? `<br><small>serial ${esc(f.subject)}</small>` : ''}`)}${cell('Citation', esc(f.citation))}${cell('First seen', f.firstSeen)}${cell('Last seen', f.lastSeen)}${resolved ? cell('Resolved', f.resolvedAt ?? '') : ''}</tr>`,
    )
    .join('\n');
  return `<table id="${id}" class="cards"><caption>${esc(caption)}</caption><thead><tr><th scope="col">Severity</th><th scope="col">Code</th><th scope="col">CRL URL</th><th scope="col">What</th><th scope="col">Citation</th><th scope="col">First seen</th><th scope="col">Last seen</th>${resolved ? '<th scope="col">Resolved</th>' : ''}</tr></thead><tbody>
${rows}
</tbody></table>`;
}

export function crlHealthOwnerHtml(row: OwnerHealthRow, state: SweepState, now: number): string {
  const open = row.findings.filter((f) => f.resolvedAt === null);
  const resolved = row.findings.filter((f) => f.resolvedAt !== null);
  const label = ownerLabel(row.owner);
  return sitePage(
    `${label}: CRL health`,
    `<nav><a class="index-link" href="../index.html">&larr; CRL health of every owner</a></nav>
<h1>${esc(label)}: CRL health</h1>
<p>Generated by revwatch at ${iso(now)} from ${state.sweeps.length} sweep(s). ${row.last ? `At the last sweep ${row.last.readable} of its ${row.last.urls} CRL URL(s) were readable, ${row.last.unreachable} unreachable.` : 'The last sweep did not read its CRLs.'}</p>
<h2>Readable CRL URLs over time</h2>
${row.points.length ? availabilityChartSvg([{ label, points: row.points }], { id: 'availability' }) : '<p>No sweep recorded its availability.</p>'}
<h2>Open findings</h2>
${findingsTable('open-findings', 'Open: the last sweep that could judge them still found them. Violations first.', open, false)}
<h2>Resolved findings</h2>
${findingsTable('resolved-findings', 'Resolved: a later sweep no longer found them.', resolved, true)}`,
  );
}

/** The CRL-health pages of the site, the overview first; the overview alone (saying so) before any sweep. */
export function crlHealthPages(state: SweepState, now: number): BundleFile[] {
  const files: BundleFile[] = [{ path: CRL_HEALTH_INDEX, bytes: Buffer.from(crlHealthIndexHtml(state, now)) }];
  if (state.sweeps.length === 0) return files;
  for (const row of ownerHealthRows(state))
    files.push({ path: `crl-health/owners/${ownerPageName(row.owner)}`, bytes: Buffer.from(crlHealthOwnerHtml(row, state, now)) });
  return files;
}
