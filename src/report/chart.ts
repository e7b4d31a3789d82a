import type { CaseReport } from './case-report.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The chart: certificates revoked over time (by effective revocation time, a
 * step line with one point per revocation) against the SHOULD and MUST
 * deadlines. Drawn by hand as SVG so the page needs nothing from outside.
 */
export function revocationChartSvg(r: CaseReport, width = 760, height = 300): string {
  const pad = { left: 48, right: 16, top: 16, bottom: 40 };
  const times = r.certificates.map((c) => c.effectiveRevocationTime).filter((x): x is string => x !== null).map((x) => Date.parse(x)).sort((a, b) => a - b);
  const start = Date.parse(r.case.reportedAt);
  const marks = [r.deadline, r.shouldDeadline].filter((x): x is string => x !== null).map(Date.parse);
  const lo = Math.min(start, ...times);
  const hi = Math.max(Date.parse(r.generatedAt), ...times, ...marks.map((m) => m + (m - start) * 0.1));
  const span = Math.max(hi - lo, 60_000);
  const total = Math.max(r.counts.total, 1);
  const x = (t: number): number => pad.left + ((t - lo) / span) * (width - pad.left - pad.right);
  const y = (n: number): number => height - pad.bottom - (n / total) * (height - pad.top - pad.bottom);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Certificates revoked over time">`);
  parts.push(`<line x1="${pad.left}" y1="${y(0)}" x2="${width - pad.right}" y2="${y(0)}" stroke="#444"/>`, `<line x1="${pad.left}" y1="${y(0)}" x2="${pad.left}" y2="${pad.top}" stroke="#444"/>`);
  parts.push(`<text x="${pad.left - 6}" y="${y(total) + 4}" text-anchor="end" font-size="11">${total}</text>`, `<text x="${pad.left - 6}" y="${y(0) + 4}" text-anchor="end" font-size="11">0</text>`);
  parts.push(`<text x="${pad.left}" y="${height - 8}" font-size="11">${esc(new Date(lo).toISOString().slice(0, 16))}Z</text>`);
  parts.push(`<text x="${width - pad.right}" y="${height - 8}" text-anchor="end" font-size="11">${esc(new Date(hi).toISOString().slice(0, 16))}Z</text>`);
  const deadline = (iso: string | null, label: string, color: string, cls: string): void => {
    if (!iso) return;
    const px = x(Date.parse(iso));
    parts.push(`<line class="${cls}" x1="${px}" y1="${pad.top}" x2="${px}" y2="${y(0)}" stroke="${color}" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${px + 3}" y="${pad.top + 10}" font-size="11" fill="${color}">${label}</text>`);
  };
  deadline(r.shouldDeadline, 'SHOULD', '#b8860b', 'deadline-should');
  deadline(r.deadline, 'MUST', '#b22222', 'deadline-must');
  let path = `M ${x(lo)} ${y(0)}`;
  times.forEach((t, i) => {
    path += ` H ${x(t)} V ${y(i + 1)}`;
  });
  path += ` H ${x(hi)}`;
  parts.push(`<path d="${path}" fill="none" stroke="#1f6feb" stroke-width="2"/>`);
  times.forEach((t, i) => {
    const late = r.deadline !== null && t > Date.parse(r.deadline);
    parts.push(`<circle class="revocation-point" cx="${x(t)}" cy="${y(i + 1)}" r="3.5" fill="${late ? '#b22222' : '#1f6feb'}"><title>${esc(new Date(t).toISOString())}</title></circle>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

