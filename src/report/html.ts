import type { CaseReport } from './case-report.js';
import { revocationChartSvg } from './chart.js';

const hours = (s: number | null): string => (s === null ? '' : (s / 3600).toFixed(1));
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function toHtml(r: CaseReport): string {
  const c = r.counts;
  const rows = r.certificates
    .map((x) => `<tr class="verdict-${x.verdict}"><td><code>${esc(x.serial)}</code></td><td>${x.verdict}</td><td>${x.effectiveRevocationTime ?? ''}</td><td>${x.reasonCode ?? ''}</td><td>${hours(x.lateBySeconds)}</td><td><a href="${esc(x.crtshUrl)}">crt.sh</a></td></tr>`)
    .join('\n');
  const findings = r.findings.length
    ? `<ul>${r.findings.map((f) => `<li class="finding ${f.finding.severity}"><strong>${f.finding.severity}</strong> <code>${f.finding.code}</code> (serial ${esc(f.serial)}): ${esc(f.finding.message)}</li>`).join('')}</ul>`
    : '<p>None.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.case.title)}: revocation status</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#111;max-width:1000px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
.verdict-revoked_late td:nth-child(2),.verdict-overdue td:nth-child(2),.verdict-expired_overdue td:nth-child(2){color:#b22222;font-weight:600}
.violation strong{color:#b22222}.warning strong{color:#b8860b}
@media print{body{margin:0}a{color:inherit}}
</style></head><body>
<h1>${esc(r.case.title)}</h1>
<p>Reported to the CA ${r.case.reportedAt}${r.case.notifiedBy ? ` by ${esc(r.case.notifiedBy)}` : ''}; reason ${esc(r.case.reason)} (${esc(r.case.kind)}). MUST deadline <strong>${r.deadline ?? 'none'}</strong>${r.shouldDeadline ? `, SHOULD deadline ${r.shouldDeadline}` : ''} by rule ${esc(r.rule.id)} (${esc(r.rule.section)}, version ${esc(r.rule.version)}). Generated ${r.generatedAt}.</p>
${r.rule.note ? `<p class="rule-note">${r.rule.interpretation ? `<strong>${esc(r.rule.interpretation)} interpretation.</strong> ` : ''}${esc(r.rule.note)}</p>` : ''}
${r.incidentDuties.statement ? `<h2>Incident-report duties</h2>\n<p class="incident-duties">The MUST deadline was missed for ${r.incidentDuties.missed} certificate(s). ${esc(r.incidentDuties.statement)}</p>` : ''}
<table id="summary"><tr><th>Certificates</th><td data-count="total">${c.total}</td></tr><tr><th>Revoked</th><td data-count="revoked">${c.revoked}</td></tr><tr><th>Revoked on time</th><td data-count="revokedOnTime">${c.revokedOnTime}</td></tr><tr><th>Revoked late</th><td data-count="revokedLate">${c.revokedLate}</td></tr><tr><th>Not yet revoked</th><td data-count="notYetRevoked">${c.notYetRevoked}</td></tr><tr><th>Expired</th><td data-count="expired">${c.expired}</td></tr></table>
<h2>Revocations over time</h2>
${revocationChartSvg(r)}
<h2>Certificates</h2>
<table id="certificates"><thead><tr><th>serial</th><th>verdict</th><th>revoked (effective)</th><th>reason</th><th>late by (h)</th><th></th></tr></thead><tbody>
${rows}
</tbody></table>
<h2>Findings</h2>
${findings}
</body></html>
`;
}

