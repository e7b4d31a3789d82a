/**
 * The case report as one self-contained HTML page (no script, no network,
 * opens from file://): summary with the bug link, the chart and its numbers
 * as a table, the timeline, impact, the certificates (the first
 * HTML_CERTIFICATE_ROWS; all are in the CSV) and the findings.
 */
import type { CaseReport, ReportCertificate } from './case-report.js';
import { chartData, chartSvg, chartTableRows, type ChartData } from './chart.js';
import { countVerdicts, VERDICT_REPORT_ORDER, type Verdict } from '../rules/verdict.js';
import { formatDuration, iso } from '../time.js';

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Only http(s) links are made clickable: a report URL is user input. */
export const safeHref = (url: string | null): string | null => (url && /^https?:\/\//i.test(url) ? esc(url) : null);

/** A page of the static site (site.ts, crl-health-site.ts): self-contained, the shared style, a wider body. */
export function sitePage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title>
<style>
${PAGE_STYLE}
body{max-width:1400px}
</style></head><body>
<main>
${body}
</main>
</body></html>
`;
}

/** Rows of the certificate table on the page; a 100,000-certificate case would otherwise weigh tens of MB. */
export const HTML_CERTIFICATE_ROWS = 1000;

export const PAGE_STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#111;max-width:1040px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
caption{text-align:left;color:#444;padding:0 0 .3em}
.verdict-revoked_late td.verdict,.verdict-overdue td.verdict,.verdict-expired_overdue td.verdict,td.bad,.bad{color:#b22222;font-weight:600}
.ok{color:#1d5e2b}
tr.finding td.severity,tr.finding td.code,tr.finding td.code code{overflow-wrap:normal}
.violation strong{color:#b22222}.warning strong{color:#7a5500}nav{margin-bottom:1em}
svg{max-width:100%;height:auto}svg text{font-family:system-ui,sans-serif}
code{overflow-wrap:anywhere}
.badge{display:inline-block;border-radius:3px;padding:0 6px;margin:1px 0;font-weight:600;white-space:nowrap;border:1px solid currentColor}
.badge.v-revoked_on_time{background:#dff3e4;color:#145523}
.badge.v-revoked_late{background:#fde8cc;color:#6e3500}
.badge.v-overdue,.badge.v-expired_overdue{background:#fbdada;color:#8a1111}
.badge.v-pending{background:#e1e9fb;color:#163d8a}
.badge.v-expired,.badge.v-no_deadline,.badge.v-undetermined{background:#ececec;color:#333}
#overview{display:flex;flex-wrap:wrap;gap:.6em;margin:1em 0}
#overview .stat{margin:0;padding:.5em .8em;border:1px solid #ccc;border-radius:4px;background:#f7f7f7}
#overview .stat strong{font-size:1.3em}
#overview .stat.alert{border-color:#b22222;background:#fdf0f0}
.table-scroll{overflow-x:auto;max-width:100%}
.table-scroll td,.table-scroll th{overflow-wrap:normal}
@media (max-width:760px){
body{margin:.8em}
table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
table.cards,table.cards caption,table.cards tbody,table.cards tr,table.cards td{display:block}
table.cards tr{border:1px solid #ccc;margin-bottom:.8em}
table.cards td{border:0;border-top:1px solid #eee}
table.cards td::before{content:attr(data-label);display:block;font-size:.85em;color:#444;font-weight:600}
}
@media print{body{margin:0}a{color:inherit}nav{display:none}}`;

/** A verdict in words, with its colour as a second cue (never the only one), and the count when given. */
export function verdictBadge(verdict: string, count?: number): string {
  const words = verdict.replace(/_/g, ' ');
  return `<span class="badge v-${esc(verdict)}" data-verdict="${esc(verdict)}">${words}${count === undefined ? '' : ` ${count.toLocaleString('en-US')}`}</span>`;
}

export interface HtmlOptions {
  /** A link back to the site's index (relative), when the page is part of a site. */
  readonly indexHref?: string;
}

export function toHtml(r: CaseReport, options: HtmlOptions = {}): string {
  return htmlPage(
    r,
    {
      verdicts: countVerdicts(r.certificates),
      chart: chartData(r),
      shown: r.certificates.slice(0, HTML_CERTIFICATE_ROWS),
      certificates: r.certificates.length,
      findingsShown: r.findings.slice(0, HTML_CERTIFICATE_ROWS),
      findings: r.findings.length,
    },
    options,
  );
}

/** What the page shows of the whole case: counts, the chart, and the first rows (a streamed report keeps only these). */
export interface HtmlCaseView {
  readonly verdicts: Readonly<Record<Verdict, number>>;
  readonly chart: ChartData;
  /** The first HTML_CERTIFICATE_ROWS certificates, of `certificates` in all. */
  readonly shown: readonly ReportCertificate[];
  readonly certificates: number;
  /** The first HTML_CERTIFICATE_ROWS findings, of `findings` in all. */
  readonly findingsShown: CaseReport['findings'];
  readonly findings: number;
}

/** The page of a report whose certificates and findings `view` sums up (`r`'s own are not read). */
export function htmlPage(r: CaseReport, view: HtmlCaseView, options: HtmlOptions = {}): string {
  const c = r.counts;
  const data = view.chart;
  const bug = safeHref(r.case.reportUrl);
  const delayed = safeHref(r.case.delayedReportUrl);
  const counts = view.verdicts;
  const shown = view.shown;
  const rows = shown
    .map((x) => {
      const sans = x.sans.length > 3 ? `${x.sans.slice(0, 3).join(', ')} (+${x.sans.length - 3})` : x.sans.join(', ');
      return `<tr class="verdict-${x.verdict}"><td><a href="${esc(x.crtshUrl)}"><code>${esc(x.serial)}</code></a></td><td>${esc(x.subjectCN ?? '')}</td><td>${esc(sans)}</td><td class="verdict">${verdictBadge(x.verdict)}</td><td>${x.revocationTime ?? ''}</td><td>${x.reasonCode ?? ''}</td><td>${x.firstSeenRevokedAt ?? ''}</td><td>${x.lastSeenGoodAt ?? ''}</td><td>${x.lateBySeconds === null ? '' : formatDuration(x.lateBySeconds)}</td></tr>`;
    })
    .join('\n');
  const findings = view.findings
    ? `<ul>${view.findingsShown
        .map(
          (f) =>
            `<li class="finding ${f.finding.severity}"><strong>${f.finding.severity}</strong> <code>${f.finding.code}</code> (serial ${esc(f.serial)}): ${esc(f.finding.message)}</li>`,
        )
        .join(
          '',
        )}</ul>${view.findings > HTML_CERTIFICATE_ROWS ? `<p>First ${HTML_CERTIFICATE_ROWS} of ${view.findings} findings; all are in the JSON report.</p>` : ''}`
    : '<p>None.</p>';
  const chartRows = chartTableRows(data)
    .map((row) => `<tr><td>${iso(row.at)}</td><td>${row.event}</td><td>${row.revoked}</td><td>${row.share}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(r.case.title)}: revocation status</title>
<style>
${PAGE_STYLE}
</style></head><body>
<main>
${options.indexHref ? `<nav><a class="index-link" href="${esc(options.indexHref)}">&larr; all cases</a></nav>` : ''}
<h1>${esc(r.case.title)}</h1>
<p>${bug ? `Incident: <a class="bug-link" href="${bug}">${bug}</a>. ` : ''}Reported to the CA ${r.case.reportedAt}${r.case.notifiedBy ? ` by ${esc(r.case.notifiedBy)}` : ''}; reason ${esc(r.case.reason)} (${esc(r.case.kind)}). MUST deadline <strong>${r.deadline ?? 'none'}</strong>${r.shouldDeadline ? `, SHOULD deadline ${r.shouldDeadline}` : ''} by rule ${esc(r.rule.id)} (${esc(r.rule.section)}, version ${esc(r.rule.version)}). Generated ${r.generatedAt}${r.lastCheckedAt ? `; last check ${r.lastCheckedAt}` : ''}.${delayed ? ` Delayed-revocation report: <a href="${delayed}">${delayed}</a>.` : ''}</p>
${r.rule.note ? `<p class="rule-note">${r.rule.interpretation ? `<strong>${esc(r.rule.interpretation)} interpretation.</strong> ` : ''}${esc(r.rule.note)}</p>` : ''}
${r.incidentDuties.statement ? `<h2>Incident-report duties</h2>\n<p class="incident-duties">The MUST deadline was missed for ${r.incidentDuties.missed} certificate(s). ${esc(r.incidentDuties.statement)}</p>` : ''}
<h2>Summary</h2>
<table id="summary"><caption>Certificates of this case</caption><tbody><tr><th scope="row">Certificates</th><td data-count="total">${c.total}</td></tr><tr><th scope="row">Revoked</th><td data-count="revoked">${c.revoked}</td></tr><tr><th scope="row">Not yet revoked</th><td data-count="notYetRevoked">${c.notYetRevoked}</td></tr>${VERDICT_REPORT_ORDER.filter(
    (v) => counts[v] > 0,
  )
    .map((v) => `<tr><th scope="row">${verdictBadge(v)}</th><td data-verdict-count="${v}">${counts[v]}</td></tr>`)
    .join('')}</tbody></table>
${r.failingSources.length ? `<p class="failing-sources"><strong>Sources failing at the last check:</strong> ${r.failingSources.map((s) => `${s.kind} ${esc(s.url)}${s.error ? ` (${esc(s.error)})` : ''}`).join('; ')}</p>` : ''}
<h2>Revocations over time</h2>
<figure>
${chartSvg(data, { id: 'case-chart' })}
<figcaption>The same numbers:</figcaption>
<div class="table-scroll" tabindex="0" role="region" aria-label="The chart's numbers">
<table id="chart-data"><thead><tr><th>time (UTC)</th><th>event</th><th>revoked</th><th>share</th></tr></thead><tbody>${chartRows}</tbody></table>
</div>
</figure>
<h2>Timeline (UTC)</h2>
<ol id="timeline">${r.timeline.map((t) => `<li><time datetime="${t.at}">${t.at}</time>: ${esc(t.event)}</li>`).join('')}</ol>
<h2>Impact</h2>
<p>${r.impact.certificates} certificate(s)${r.impact.earliestNotBefore ? `, valid from ${r.impact.earliestNotBefore} to ${r.impact.latestNotAfter}` : ''}; issuers: ${r.impact.issuers.map((i) => `${esc(i.name)} (${i.certificates})`).join('; ')}.</p>
<h2>Certificates</h2>
${view.certificates > shown.length ? `<p>First ${shown.length} of ${view.certificates} certificates; all of them are in the CSV and JSON reports.</p>` : ''}
<div class="table-scroll" tabindex="0" role="region" aria-label="Certificates">
<table id="certificates"><thead><tr><th>serial (crt.sh)</th><th>subject CN</th><th>SANs</th><th>verdict</th><th>claimed revocation</th><th>reason</th><th>first seen revoked</th><th>last seen good</th><th>late by</th></tr></thead><tbody>
${rows}
</tbody></table>
</div>
<h2>Findings</h2>
${findings}
</main>
</body></html>
`;
}
