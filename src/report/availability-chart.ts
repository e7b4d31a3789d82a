/**
 * The CRL-health chart: for each series (all owners, or one CA owner), the
 * share of its CRL URLs where a verified CRL stood after each sweep, as a line
 * through one point per sweep. CCADB Policy 2.1 §6.2 wants every disclosed CRL
 * retrievable at all times, so anything under 100 % is a gap to look at.
 * Drawn by hand as SVG like the revocation chart (chart.ts), so the page needs
 * nothing from outside; a sweep that recorded no availability has no point.
 */
import type { AvailabilityPoint } from '../sweep/health-report.js';
import { iso } from '../time.js';
import { timeTicks } from './chart.js';
import { esc } from './html.js';

const MINUTE = 60_000;
const COLORS = ['#1f6feb', '#b22222', '#b8860b', '#1d5e2b', '#6f42c1', '#d63384', '#0a7d8c', '#555'];

export interface AvailabilitySeries {
  readonly label: string;
  readonly points: readonly AvailabilityPoint[];
}

export interface AvailabilityChartOptions {
  readonly compact?: boolean;
  /** Unique per page: ids of title and desc. */
  readonly id?: string;
  readonly width?: number;
  readonly height?: number;
}

const share = (p: AvailabilityPoint): number => (p.urls === 0 ? 1 : p.readable / p.urls);
const pct = (x: number): string => `${Math.round(x * 1000) / 10} %`;

export function availabilityChartSvg(series: readonly AvailabilitySeries[], options: AvailabilityChartOptions = {}): string {
  const compact = options.compact === true;
  const width = options.width ?? (compact ? 200 : 760);
  const height = options.height ?? (compact ? 56 : 300);
  const id = options.id ?? 'availability';
  const pad = compact
    ? { left: 4, right: 4, top: 6, bottom: 6 }
    : { left: 52, right: 20, top: 20, bottom: 60 + 16 * Math.ceil(series.length / 3) };
  const times = series.flatMap((s) => s.points.map((p) => p.at));
  const lo0 = times.length ? Math.min(...times) : 0;
  const hi0 = times.length ? Math.max(...times) : MINUTE;
  // The sweeps' own span, however short (two sweeps seconds apart still spread across the chart); a second for one sweep.
  const span = Math.max(hi0 - lo0, 1000);
  const lo = lo0 - span * 0.03;
  const hi = lo0 + span * 1.03;
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (t: number): number => Math.round((pad.left + ((t - lo) / (hi - lo)) * plotW) * 10) / 10;
  const y = (s: number): number => Math.round((height - pad.bottom - s * plotH) * 10) / 10;
  const sweeps = new Set(series.flatMap((s) => s.points.map((p) => p.sweep))).size;
  const summary = series
    .map((s) => {
      const last = s.points[s.points.length - 1];
      return last
        ? `${s.label}: ${last.readable} of ${last.urls} CRL URLs readable at sweep ${last.sweep} (${pct(share(last))}), lowest ${pct(Math.min(...s.points.map(share)))}`
        : `${s.label}: no sweep recorded`;
    })
    .join('; ');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="availability-chart${compact ? ' compact' : ''}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${esc(id)}-title ${esc(id)}-desc" data-sweeps="${sweeps}">`,
    `<title id="${esc(id)}-title">Share of CRL URLs readable at each sweep</title>`,
    `<desc id="${esc(id)}-desc">${esc(summary)}</desc>`,
  ];
  for (const s of compact ? [0, 1] : [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(
      `<line class="grid" x1="${pad.left}" y1="${y(s)}" x2="${width - pad.right}" y2="${y(s)}" stroke="${s === 0 ? '#444' : '#ddd'}"/>`,
    );
    if (!compact)
      parts.push(`<text class="y-tick" x="${pad.left - 6}" y="${y(s) + 4}" text-anchor="end" font-size="11">${s * 100} %</text>`);
  }
  if (!compact) {
    parts.push(`<line x1="${pad.left}" y1="${y(0)}" x2="${pad.left}" y2="${y(1)}" stroke="#444"/>`);
    const ticks = timeTicks(lo, hi);
    // Under a couple of whole hours there is no hour to tick: the first and last sweep are labelled instead.
    const labels =
      ticks.length >= 2 ? ticks : [...new Set([lo0, hi0])].map((at) => ({ at, label: `${iso(at).slice(5, 10)} ${iso(at).slice(11, 19)}` }));
    // A label near an edge runs inwards, so it stays inside the picture.
    const anchor = (px: number): string => (px < pad.left + 50 ? 'start' : px > width - pad.right - 50 ? 'end' : 'middle');
    for (const t of labels) {
      const px = x(t.at);
      parts.push(
        `<line class="x-tick" x1="${px}" y1="${y(0)}" x2="${px}" y2="${y(0) + 4}" stroke="#444"/><text class="x-tick-label" x="${px}" y="${y(0) + 16}" text-anchor="${anchor(px)}" font-size="11">${esc(t.label)}</text>`,
      );
    }
    parts.push(
      `<text x="${pad.left + plotW / 2}" y="${y(0) + 32}" text-anchor="middle" font-size="11" fill="#555">sweep time (UTC)</text>`,
    );
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const last = s.points[s.points.length - 1];
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'} ${x(p.at)} ${y(share(p))}`).join(' ');
    parts.push(
      `<g class="availability-series" data-series="${esc(s.label)}" data-points="${s.points.length}" data-last-share="${last ? share(last) : ''}">`,
    );
    if (d) parts.push(`<path class="availability-line" d="${d}" fill="none" stroke="${color}" stroke-width="${i === 0 ? 2.5 : 1.5}"/>`);
    for (const p of s.points)
      parts.push(
        `<circle class="availability-point" cx="${x(p.at)}" cy="${y(share(p))}" r="${compact ? 1.5 : 3}" fill="${p.readable < p.urls ? '#b22222' : color}" data-sweep="${p.sweep}" data-readable="${p.readable}" data-urls="${p.urls}"><title>${esc(`${s.label}, sweep ${p.sweep} (${iso(p.at)}): ${p.readable} of ${p.urls} readable (${pct(share(p))}), ${p.unreachable} unreachable`)}</title></circle>`,
      );
    parts.push('</g>');
  });
  if (!compact) {
    parts.push(`<g class="legend" transform="translate(0 ${height - 12 - 16 * Math.floor((series.length - 1) / 3)})">`);
    series.forEach((s, i) => {
      const label = s.label.length > 32 ? `${s.label.slice(0, 31)}…` : s.label;
      parts.push(
        `<g class="legend-item" transform="translate(${pad.left + (i % 3) * 230} ${16 * Math.floor(i / 3)})"><line x1="0" y1="0" x2="18" y2="0" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/><text x="22" y="4" font-size="11">${esc(label)}</text></g>`,
      );
    });
    parts.push('</g>');
  }
  parts.push('</svg>');
  return parts.join('');
}
