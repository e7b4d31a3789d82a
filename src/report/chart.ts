/**
 * The chart of a case: the share of its certificates revoked over time (by
 * effective revocation time) as a step line, with the SHOULD and MUST
 * deadlines and "now" as labelled vertical lines, a legend, UTC time ticks
 * on whole hours or days, and the certificates not revoked after the MUST
 * deadline shaded as the gap to 100 %. Drawn by hand as SVG, so the page
 * needs nothing from outside. Revocations are aggregated per pixel column, so
 * 100,000 certificates draw as a few hundred steps; one instant for all of
 * them is a single rise, with the time axis spanning report to now.
 */
import type { CaseReport } from './case-report.js';
import { iso } from '../time.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** One step of the line: by `at`, `revoked` certificates in all (cumulative). */
export interface ChartStep {
  readonly at: number;
  readonly revoked: number;
}

export interface ChartData {
  readonly total: number;
  readonly reportedAt: number;
  readonly shouldDeadline: number | null;
  readonly deadline: number | null;
  readonly now: number;
  /** Cumulative revoked counts at each distinct effective revocation time, oldest first. */
  readonly steps: readonly ChartStep[];
}

export function chartData(r: CaseReport): ChartData {
  const revokedAt = new Map<number, number>();
  for (const c of r.certificates) {
    if (c.effectiveRevocationTime === null) continue;
    const t = Date.parse(c.effectiveRevocationTime);
    revokedAt.set(t, (revokedAt.get(t) ?? 0) + 1);
  }
  return chartDataFrom(r, revokedAt, r.certificates.length);
}

/** The chart of `total` certificates, of which `revokedAt` counts those revoked at each effective revocation time. */
export function chartDataFrom(
  r: Pick<CaseReport, 'case' | 'shouldDeadline' | 'deadline' | 'generatedAt'>,
  revokedAt: ReadonlyMap<number, number>,
  total: number,
): ChartData {
  const steps: ChartStep[] = [];
  let revoked = 0;
  for (const t of [...revokedAt.keys()].sort((a, b) => a - b)) {
    revoked += revokedAt.get(t)!;
    steps.push({ at: t, revoked });
  }
  return {
    total,
    reportedAt: Date.parse(r.case.reportedAt),
    shouldDeadline: r.shouldDeadline ? Date.parse(r.shouldDeadline) : null,
    deadline: r.deadline ? Date.parse(r.deadline) : null,
    now: Date.parse(r.generatedAt),
    steps,
  };
}

/** Revoked by time `t` (inclusive). */
export function revokedBy(d: ChartData, t: number): number {
  let n = 0;
  for (const s of d.steps) if (s.at <= t) n = s.revoked;
  return n;
}

const TICK_STEPS = [HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 365 * DAY];

/** Ticks on whole UTC hours or days, at most `max` of them, inside [lo, hi]. */
export function timeTicks(lo: number, hi: number, max = 8): { at: number; label: string }[] {
  const step = TICK_STEPS.find((s) => (hi - lo) / s <= max) ?? TICK_STEPS[TICK_STEPS.length - 1]!;
  const first = Math.ceil(lo / step) * step;
  const ticks: { at: number; label: string }[] = [];
  for (let t = first; t <= hi; t += step) {
    const text = iso(t);
    // Hours show date and hour; days show the date alone (UTC).
    ticks.push({ at: t, label: step < DAY ? `${text.slice(5, 10)} ${text.slice(11, 16)}` : text.slice(0, 10) });
  }
  return ticks;
}

/** Merges steps that fall in the same bucket of `width` ms, keeping each bucket's last (highest) count. */
export function aggregateSteps(steps: readonly ChartStep[], lo: number, width: number): ChartStep[] {
  const out: ChartStep[] = [];
  let bucket = Number.NaN;
  for (const s of steps) {
    const b = Math.floor((s.at - lo) / width);
    if (b === bucket) out[out.length - 1] = { at: out[out.length - 1]!.at, revoked: s.revoked };
    else out.push(s);
    bucket = b;
  }
  return out;
}

const pct = (n: number, total: number): string => `${total === 0 ? 0 : Math.round((n / total) * 1000) / 10} %`;

export interface ChartOptions {
  readonly width?: number;
  readonly height?: number;
  /** A small chart for the site's index: no legend, no tick labels but the ends. */
  readonly compact?: boolean;
  /** Unique per page: ids of title and desc. */
  readonly id?: string;
}

export function revocationChartSvg(r: CaseReport, options: ChartOptions = {}): string {
  return chartSvg(chartData(r), options);
}

export function chartSvg(d: ChartData, options: ChartOptions = {}): string {
  const compact = options.compact === true;
  const width = options.width ?? (compact ? 240 : 760);
  const height = options.height ?? (compact ? 80 : 320);
  const id = options.id ?? 'chart';
  const pad = compact ? { left: 4, right: 4, top: 6, bottom: 6 } : { left: 52, right: 20, top: 40, bottom: 74 };
  const marks = [d.deadline, d.shouldDeadline].filter((x): x is number => x !== null);
  const first = d.steps[0]?.at ?? d.reportedAt;
  const last = d.steps[d.steps.length - 1]?.at ?? d.reportedAt;
  const lo0 = Math.min(d.reportedAt, first);
  const hi0 = Math.max(d.now, last, ...marks);
  // At least an hour, and a margin so that lines at the ends stay visible.
  const span0 = Math.max(hi0 - lo0, HOUR);
  const lo = lo0 - span0 * 0.02;
  const hi = lo0 + span0 * 1.04;
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (t: number): number => Math.round((pad.left + ((t - lo) / (hi - lo)) * plotW) * 10) / 10;
  const total = Math.max(d.total, 1);
  const y = (n: number): number => Math.round((height - pad.bottom - (n / total) * plotH) * 10) / 10;
  const revokedNow = d.steps.length ? d.steps[d.steps.length - 1]!.revoked : 0;
  const steps = aggregateSteps(d.steps, lo, (hi - lo) / plotW);
  const atMust = d.deadline === null ? null : revokedBy(d, d.deadline);

  const parts: string[] = [];
  const summary = `By ${iso(d.now)}, ${revokedNow} of ${d.total} certificates (${pct(revokedNow, d.total)}) were revoked.${
    atMust === null ? ' No MUST deadline applies.' : ` By the MUST deadline ${iso(d.deadline!)}, ${atMust} (${pct(atMust, d.total)}).`
  }${d.total - revokedNow > 0 ? ` ${d.total - revokedNow} not revoked.` : ''}`;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="revocation-chart${compact ? ' compact' : ''}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title ${id}-desc" data-total="${d.total}" data-revoked="${revokedNow}">`,
    `<title id="${id}-title">Share of the ${d.total} certificates revoked over time</title>`,
    `<desc id="${id}-desc">${esc(summary)}</desc>`,
  );
  // Axes and grid: 0, 25, 50, 75, 100 %.
  for (const share of compact ? [0, 1] : [0, 0.25, 0.5, 0.75, 1]) {
    const py = y(share * total);
    parts.push(
      `<line class="grid" x1="${pad.left}" y1="${py}" x2="${width - pad.right}" y2="${py}" stroke="${share === 0 ? '#444' : '#ddd'}"/>`,
    );
    if (!compact)
      parts.push(`<text class="y-tick" x="${pad.left - 6}" y="${py + 4}" text-anchor="end" font-size="11">${share * 100} %</text>`);
  }
  if (!compact) {
    parts.push(`<line x1="${pad.left}" y1="${y(0)}" x2="${pad.left}" y2="${y(total)}" stroke="#444"/>`);
    for (const t of timeTicks(lo, hi)) {
      const px = x(t.at);
      parts.push(
        `<line class="x-tick" x1="${px}" y1="${y(0)}" x2="${px}" y2="${y(0) + 4}" stroke="#444"/><text class="x-tick-label" x="${px}" y="${y(0) + 16}" text-anchor="middle" font-size="11">${esc(t.label)}</text>`,
      );
    }
    parts.push(`<text x="${pad.left + plotW / 2}" y="${y(0) + 32}" text-anchor="middle" font-size="11" fill="#555">time (UTC)</text>`);
  }
  // Not revoked after the MUST deadline: the gap between the line and 100 %, shaded.
  if (d.deadline !== null && d.now > d.deadline) {
    let gap = `M ${x(d.deadline)} ${y(total)} L ${x(d.now)} ${y(total)} L ${x(d.now)} ${y(revokedNow)}`;
    for (let i = steps.length - 1; i >= 0 && steps[i]!.at > d.deadline; i--)
      gap += ` H ${x(steps[i]!.at)} V ${y(i > 0 ? steps[i - 1]!.revoked : 0)}`;
    gap += ` H ${x(d.deadline)} Z`;
    parts.push(`<path class="overdue-gap" d="${gap}" fill="#b22222" fill-opacity="0.12" stroke="none"/>`);
  }
  // The step line, from the report (nothing revoked) to now.
  let path = `M ${x(lo0)} ${y(0)}`;
  for (const s of steps) path += ` H ${x(s.at)} V ${y(s.revoked)}`;
  path += ` H ${x(Math.max(d.now, last))}`;
  parts.push(
    `<path class="revoked-step" d="${path}" fill="none" stroke="#1f6feb" stroke-width="2" data-end-share="${revokedNow / total}"/>`,
  );
  if (!compact) {
    for (const s of steps) {
      const late = d.deadline !== null && s.at > d.deadline;
      parts.push(
        `<circle class="revocation-point" cx="${x(s.at)}" cy="${y(s.revoked)}" r="3" fill="${late ? '#b22222' : '#1f6feb'}" data-revoked="${s.revoked}"><title>${esc(`${iso(s.at)}: ${s.revoked} revoked (${pct(s.revoked, d.total)})`)}</title></circle>`,
      );
    }
    parts.push(
      `<text class="end-label" x="${x(Math.max(d.now, last)) - 4}" y="${Math.max(y(revokedNow) - 6, pad.top + 10)}" text-anchor="end" font-size="11" fill="#1f6feb">${esc(`${pct(revokedNow, d.total)} revoked`)}</text>`,
    );
  }
  // Vertical markers, labels staggered so that close ones do not overlap.
  const markers: { at: number; cls: string; color: string; label: string }[] = [];
  if (d.shouldDeadline !== null) markers.push({ at: d.shouldDeadline, cls: 'deadline-should', color: '#b8860b', label: 'SHOULD' });
  if (d.deadline !== null) markers.push({ at: d.deadline, cls: 'deadline-must', color: '#b22222', label: 'MUST' });
  markers.push({ at: d.now, cls: 'now-line', color: '#555', label: 'now' });
  markers.forEach((m, i) => {
    const px = x(m.at);
    parts.push(
      `<g class="${m.cls}" data-at="${iso(m.at)}"><line x1="${px}" y1="${pad.top - (compact ? 0 : 4)}" x2="${px}" y2="${y(0)}" stroke="${m.color}" stroke-dasharray="4 3"/>`,
    );
    // Near the right edge the label runs leftwards, so it stays inside the picture.
    const leftwards = px > width - 140;
    if (!compact)
      parts.push(
        `<text class="marker-label" x="${leftwards ? px - 3 : px + 3}" y="${pad.top - 26 + 11 * i}" text-anchor="${leftwards ? 'end' : 'start'}" font-size="11" fill="${m.color}">${esc(`${m.label} ${iso(m.at).slice(0, 16)}Z`)}</text>`,
      );
    parts.push('</g>');
  });
  if (!compact) {
    const ly = height - 18;
    const items: [string, string][] = [
      ['<line x1="0" y1="0" x2="18" y2="0" stroke="#1f6feb" stroke-width="2"/>', 'revoked (cumulative share)'],
      ...markers.map((m): [string, string] => [
        `<line x1="0" y1="0" x2="18" y2="0" stroke="${m.color}" stroke-dasharray="4 3"/>`,
        m.label === 'now' ? 'now' : `${m.label} deadline`,
      ]),
      ...(d.deadline !== null && d.now > d.deadline
        ? [['<rect x="0" y="-5" width="18" height="10" fill="#b22222" fill-opacity="0.12"/>', 'not revoked after MUST'] as [string, string]]
        : []),
    ];
    let lx = pad.left;
    parts.push(`<g class="legend" transform="translate(0 ${ly})">`);
    for (const [swatch, label] of items) {
      parts.push(
        `<g class="legend-item" transform="translate(${lx} 0)">${swatch}<text x="22" y="4" font-size="11">${esc(label)}</text></g>`,
      );
      lx += 30 + label.length * 6.2;
    }
    parts.push('</g>');
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The chart's numbers as table rows (at most `max`): each step, merged when there are more, plus the deadlines and now. */
export function chartTableRows(d: ChartData, max = 40): { at: number; event: string; revoked: number; share: string }[] {
  const span = Math.max((d.steps[d.steps.length - 1]?.at ?? d.reportedAt) - (d.steps[0]?.at ?? d.reportedAt), 1);
  // More steps than rows: merge them into equal time buckets (4 rows are kept for the report, deadlines and now).
  const steps = d.steps.length > max - 4 ? aggregateSteps(d.steps, d.steps[0]!.at, span / (max - 5) + 1) : d.steps;
  const rows = steps.map((s) => ({ at: s.at, event: 'revoked by then', revoked: s.revoked }));
  rows.push({ at: d.reportedAt, event: 'reported', revoked: revokedBy(d, d.reportedAt) });
  if (d.shouldDeadline !== null) rows.push({ at: d.shouldDeadline, event: 'SHOULD deadline', revoked: revokedBy(d, d.shouldDeadline) });
  if (d.deadline !== null) rows.push({ at: d.deadline, event: 'MUST deadline', revoked: revokedBy(d, d.deadline) });
  rows.push({ at: d.now, event: 'now', revoked: revokedBy(d, d.now) });
  return rows.sort((a, b) => a.at - b.at).map((r) => ({ ...r, share: pct(r.revoked, d.total) }));
}
