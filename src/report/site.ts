/**
 * `revwatch site`: a static dashboard across cases. index.html opens with what
 * a reader wants at a glance (overdue certificates, cases with a missed
 * deadline, the next deadline and how far away), then lists every case (title,
 * CA owner, bug link, verdict badges, next deadline, a small chart, last check,
 * sources failing at the last check), most urgent first, and links to
 * cases/<id>.html, the case's HTML report, and to owners/<owner>.html, the same
 * table for one CA owner's cases. Every page is self-contained (inline CSS and
 * SVG, no script, no network) and links are relative, so the folder works from
 * file:// and from any static host or bucket prefix.
 */
import { createHash } from 'node:crypto';
import type { CaseStore, ObservationStore } from '../ports/store.js';
import type { JudgingInputs } from '../status/status.js';
import { buildCaseReport, type CaseReport } from './case-report.js';
import { chartData, chartSvg } from './chart.js';
import { countVerdicts, VERDICT_REPORT_ORDER } from '../rules/verdict.js';
import { MISSED_VERDICTS } from '../rules/incident-duties.js';
import { esc, safeHref, sitePage as page, toHtml, verdictBadge } from './html.js';
import { formatDuration, iso } from '../time.js';
import type { BundleFile } from './bundle.js';
import { ownerPageName } from './site-names.js';
import { CRL_HEALTH_INDEX, crlHealthPages } from './crl-health-site.js';
import type { SweepState } from '../ports/revocation-index.js';

/** A file name for a case id: the id itself when it is plain, else a readable part plus a hash (ids stay distinct). */
export function casePageName(id: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/.test(id)) return `${id}.html`;
  const plain = id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60);
  return `${plain}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}.html`;
}

/** The verdicts of a missed MUST deadline (docs/verdicts.md, "After a missed deadline"). */

/**
 * The CA owner an issuer name stands for: its organisation (O=), as CAs name their
 * intermediates after themselves, else its common name, else the whole name.
 */
export function caOwnerOf(issuerName: string): string {
  const attribute = (type: string): string | null => {
    const m = new RegExp(`(?:^|,|\\+)\\s*${type}=((?:\\\\.|[^,+\\\\])*)`).exec(issuerName);
    return m ? m[1]!.replace(/\\(.)/g, '$1').trim() || null : null;
  };
  return attribute('O') ?? attribute('CN') ?? (issuerName.trim() || 'unknown CA');
}

export { ownerPageName } from './site-names.js';

/** The next deadline still ahead for a case's certificates not yet revoked, or null. */
export function nextDeadline(r: CaseReport, now: number): { at: string; which: 'SHOULD' | 'MUST' } | null {
  if (!r.certificates.some((c) => c.verdict === 'pending')) return null;
  for (const [at, which] of [
    [r.shouldDeadline, 'SHOULD'],
    [r.deadline, 'MUST'],
  ] as const)
    if (at && Date.parse(at) > now) return { at, which };
  return null;
}

/** The counts across cases the index opens with; `status --json` counts the same certificates. */
export interface SiteOverview {
  readonly cases: number;
  readonly certificates: number;
  readonly overdueCertificates: number;
  readonly casesWithMissedDeadline: number;
  readonly next: { readonly at: string; readonly which: 'SHOULD' | 'MUST'; readonly caseId: string; readonly title: string } | null;
}

export function siteOverview(reports: readonly CaseReport[], now: number): SiteOverview {
  let next: SiteOverview['next'] = null;
  for (const r of reports) {
    const n = nextDeadline(r, now);
    if (n && (!next || Date.parse(n.at) < Date.parse(next.at))) next = { ...n, caseId: r.case.id, title: r.case.title };
  }
  return {
    cases: reports.length,
    certificates: reports.reduce((sum, r) => sum + r.certificates.length, 0),
    overdueCertificates: reports.reduce((sum, r) => sum + r.certificates.filter((c) => c.verdict === 'overdue').length, 0),
    casesWithMissedDeadline: reports.filter((r) => r.certificates.some((c) => MISSED_VERDICTS.has(c.verdict))).length,
    next,
  };
}

/**
 * Most urgent first: cases with overdue certificates (oldest deadline first), then cases with a
 * deadline still ahead (soonest first), then settled cases (most recently reported first).
 */
export function byUrgency(reports: readonly CaseReport[], now: number): CaseReport[] {
  const key = (r: CaseReport): [number, number] => {
    if (r.certificates.some((c) => c.verdict === 'overdue')) return [0, Date.parse(r.deadline ?? '') || 0];
    const next = nextDeadline(r, now);
    if (next) return [1, Date.parse(next.at)];
    return [2, -Date.parse(r.case.reportedAt)];
  };
  return [...reports].sort((a, b) => {
    const [ga, ka] = key(a);
    const [gb, kb] = key(b);
    return ga - gb || ka - kb || a.case.id.localeCompare(b.case.id);
  });
}

const plural = (n: number, one: string, many: string): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function relative(at: string, now: number): string {
  const seconds = Math.floor((Date.parse(at) - now) / 1000);
  return seconds >= 0 ? `in ${formatDuration(seconds)}` : `${formatDuration(-seconds)} ago`;
}

function overviewHtml(o: SiteOverview, now: number, caseHref: (id: string) => string): string {
  const next = o.next
    ? `<strong>${o.next.at}</strong> (${relative(o.next.at, now)}), the ${o.next.which} deadline of <a href="${esc(caseHref(o.next.caseId))}">${esc(o.next.title)}</a>`
    : '<strong>none</strong> (no certificate is waiting for a deadline still ahead)';
  return `<section id="overview" aria-label="At a glance">
<p class="stat${o.overdueCertificates ? ' alert' : ''}" data-stat="overdue-certificates"><strong>${o.overdueCertificates.toLocaleString('en-US')}</strong> overdue ${o.overdueCertificates === 1 ? 'certificate' : 'certificates'} (deadline passed, not revoked)</p>
<p class="stat${o.casesWithMissedDeadline ? ' alert' : ''}" data-stat="cases-missed"><strong>${o.casesWithMissedDeadline.toLocaleString('en-US')}</strong> of ${plural(o.cases, 'case', 'cases')} with a missed deadline</p>
<p class="stat" data-stat="next-deadline">Next deadline: ${next}</p>
</section>`;
}

/** The deadline cell: the MUST deadline, and where the case stands against it. */
function deadlineCell(r: CaseReport, now: number): string {
  if (!r.deadline) return 'none';
  const next = nextDeadline(r, now);
  const overdue = r.certificates.filter((c) => c.verdict === 'overdue').length;
  const state = overdue
    ? `<span class="bad">missed ${formatDuration(Math.floor((now - Date.parse(r.deadline)) / 1000))} ago, ${overdue} not revoked</span>`
    : next
      ? `${next.which} ${relative(next.at, now)}`
      : Date.parse(r.deadline) > now
        ? 'every certificate settled'
        : 'passed';
  return `MUST ${r.deadline}<br><small>${state}</small>`;
}

function casesTable(reports: readonly CaseReport[], now: number, prefix: string, chartIdPrefix: string): string {
  const rows = reports
    .map((r, i) => {
      const counts = countVerdicts(r.certificates);
      const verdicts = VERDICT_REPORT_ORDER.filter((v) => counts[v] > 0)
        .map((v) => verdictBadge(v, counts[v]))
        .join(' ');
      const bug = safeHref(r.case.reportUrl);
      const owners = [...new Set(r.impact.issuers.map((x) => caOwnerOf(x.name)))]
        .map((o) => `<a class="owner-link" href="${esc(`${prefix}owners/${ownerPageName(o)}`)}">${esc(o)}</a>`)
        .join('<br>');
      const failing = r.failingSources.length
        ? `<span class="bad">${r.failingSources.length} failing</span>`
        : `<span class="ok">none failing</span>`;
      const cell = (label: string, html: string): string => `<td data-label="${label}">${html}</td>`;
      return `<tr class="case" data-case="${esc(r.case.id)}">${cell('Case', `<a class="case-link" href="${esc(`${prefix}cases/${casePageName(r.case.id)}`)}">${esc(r.case.title)}</a><br><small>${esc(r.case.id)}</small>`)}${cell('CA owner', owners || 'unknown')}${cell('Incident report', bug ? `<a class="bug-link" href="${bug}">bug</a>` : 'none given')}${cell('Certificates by verdict', verdicts || 'none tracked')}${cell('Deadline', deadlineCell(r, now))}${cell('Revoked over time', chartSvg(chartData(r), { compact: true, id: `${chartIdPrefix}${i}` }))}${cell('Last checked', r.lastCheckedAt ?? 'never')}${cell('Sources failing at the last check', failing)}</tr>`;
    })
    .join('\n');
  return `<table id="cases" class="cards"><caption>Most urgent first: cases with overdue certificates, then by the next deadline, then settled cases.</caption><thead><tr><th scope="col">Case</th><th scope="col">CA owner</th><th scope="col">Incident report</th><th scope="col">Certificates by verdict</th><th scope="col">Deadline</th><th scope="col">Revoked over time</th><th scope="col">Last checked</th><th scope="col">Sources failing at the last check</th></tr></thead><tbody>
${rows}
</tbody></table>`;
}

/** `crlHealthHref`: where the CRL-health overview is, when the site has one. */
export function indexHtml(reports: readonly CaseReport[], now: number, crlHealthHref: string | null = null): string {
  const sorted = byUrgency(reports, now);
  const owners = [...new Set(reports.flatMap((r) => r.impact.issuers.map((x) => caOwnerOf(x.name))))].sort((a, b) => a.localeCompare(b));
  return page(
    'revwatch: revocation deadlines across cases',
    `<h1>Revocation deadlines across cases</h1>
<p>Generated by revwatch at ${iso(now)} from signed CRLs and OCSP responses: ${plural(reports.length, 'case', 'cases')}, ${plural(
      reports.reduce((n, r) => n + r.certificates.length, 0),
      'certificate',
      'certificates',
    )}.</p>
${overviewHtml(siteOverview(reports, now), now, (id) => `cases/${casePageName(id)}`)}
${crlHealthHref ? `<p><a class="crl-health-link" href="${esc(crlHealthHref)}">CRL health of every CA owner</a>: what the sweeps of the disclosed CRLs found.</p>\n` : ''}${casesTable(sorted, now, '', 'c')}
${owners.length ? `<h2>By CA owner</h2>\n<ul id="owners">${owners.map((o) => `<li><a class="owner-link" href="owners/${esc(ownerPageName(o))}">${esc(o)}</a></li>`).join('')}</ul>` : ''}`,
  );
}

/** One CA owner's cases, with the same overview and table as the index. */
export function ownerHtml(owner: string, reports: readonly CaseReport[], now: number): string {
  return page(
    `${owner}: revocation deadlines`,
    `<nav><a class="index-link" href="../index.html">&larr; all cases</a></nav>
<h1>${esc(owner)}</h1>
<p>The cases with certificates issued by ${esc(owner)}, generated by revwatch at ${iso(now)}: ${plural(reports.length, 'case', 'cases')}.</p>
${overviewHtml(siteOverview(reports, now), now, (id) => `../cases/${casePageName(id)}`)}
${casesTable(byUrgency(reports, now), now, '../', 'o')}`,
  );
}

/**
 * Every page of the site, index.html first. `sweep`: the sweep's state, for the CRL-health pages
 * (crl-health-site.ts); undefined (no sweep state where the site is built) or no sweep yet leaves them out.
 */
export async function buildSite(
  store: CaseStore & ObservationStore,
  now: number,
  judging: JudgingInputs,
  sweep?: SweepState,
): Promise<BundleFile[]> {
  const cases = (await store.listCases()).sort((a, b) => b.reportedAt - a.reportedAt || a.id.localeCompare(b.id));
  const files: BundleFile[] = [];
  const reports: CaseReport[] = [];
  for (const kase of cases) {
    const report = await buildCaseReport(store, kase.id, now, judging.disclosures ? { disclosures: judging.disclosures } : {});
    reports.push(report);
    files.push({ path: `cases/${casePageName(kase.id)}`, bytes: Buffer.from(toHtml(report, { indexHref: '../index.html' })) });
  }
  const byOwner = new Map<string, CaseReport[]>();
  for (const r of reports)
    for (const owner of new Set(r.impact.issuers.map((x) => caOwnerOf(x.name)))) byOwner.set(owner, [...(byOwner.get(owner) ?? []), r]);
  for (const [owner, owned] of byOwner)
    files.push({ path: `owners/${ownerPageName(owner)}`, bytes: Buffer.from(ownerHtml(owner, owned, now)) });
  // Before the first sweep there is no CRL health to show: no pages, no link.
  const swept = sweep && sweep.sweeps.length > 0 ? sweep : null;
  if (swept) files.push(...crlHealthPages(swept, now));
  return [{ path: 'index.html', bytes: Buffer.from(indexHtml(reports, now, swept ? CRL_HEALTH_INDEX : null)) }, ...files];
}
