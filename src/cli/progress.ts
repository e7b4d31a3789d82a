/**
 * Progress of long commands (`track` of a folder, `check`, `report` of a big case) on a terminal: the count
 * done of the total, the rate, and an estimate of the time left, redrawn in place on stderr. Nothing is drawn
 * when stderr is not a terminal (a pipe, a file, cron) or with --json, so that output stays what it was.
 *
 * Wall time, not the command's Clock: this is how long the user waits, and a test's fixed clock would
 * otherwise freeze the rate.
 */
import type { ProgressSink } from '../check/execute.js';
import type { CliContext } from './context.js';

/** "12 s", "3 m 05 s", "1 h 02 m": the estimate is rough, so seconds stop mattering past an hour. */
export function roughDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} m`;
}

/** The rate and time-left fields shown after the count. */
export function rateAndEstimate(done: number, total: number, elapsedSeconds: number): { rate: string; left: string } {
  if (done === 0 || elapsedSeconds <= 0) return { rate: '-', left: 'estimating' };
  const perSecond = done / elapsedSeconds;
  const rate = perSecond >= 10 ? Math.round(perSecond).toLocaleString('en-US') : perSecond.toFixed(1);
  return { rate, left: done >= total ? 'done' : `about ${roughDuration((total - done) / perSecond)} left` };
}

/**
 * A progress bar counting `unit` (e.g. "certificates"), or undefined when none should be drawn. Each
 * `start` begins a new stage with its own label, count and rate.
 */
export async function terminalProgress(ctx: CliContext, unit: string): Promise<ProgressSink | undefined> {
  if (!ctx.io.interactive || ctx.globals().json) return undefined;
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar(
    {
      format: `{label} [{bar}] {value}/{total} ${unit}, {rate}/s, {left}`,
      stream: process.stderr,
      clearOnComplete: true,
      hideCursor: true,
      formatValue: (v, _options, type) => (type === 'value' || type === 'total' ? v.toLocaleString('en-US') : String(v)),
    },
    Presets.shades_classic,
  );
  let startedAt = 0;
  let done = 0;
  let total = 0;
  let running = false;
  let noted = false;
  const clearNote = () => {
    if (noted) process.stderr.write('\r\x1b[K');
    noted = false;
  };
  const fields = () => rateAndEstimate(done, total, (performance.now() - startedAt) / 1000);
  return {
    start: (count, label) => {
      clearNote();
      if (running) bar.stop();
      startedAt = performance.now();
      done = 0;
      total = count;
      running = true;
      bar.start(count, 0, { label, ...fields() });
    },
    increment: (by = 1) => {
      done += by;
      bar.increment(by, fields());
    },
    stop: () => {
      clearNote();
      if (running) bar.stop();
      running = false;
    },
    note: (text) => {
      if (running) bar.stop();
      running = false;
      clearNote();
      process.stderr.write(`${text}...`);
      noted = true;
    },
  };
}
