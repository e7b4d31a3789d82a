/** What `revwatch check` runs (src/cli/commands/check.ts declares its options): poll, record, send notices, summarise. */
import { OCSP_INTERVAL_MS_RANGE, OCSP_PER_HOST_RANGE, parseOcspLimit } from '../check/ocsp-limits.js';
import { runCheck, type CheckSummary } from '../check/run-check.js';
import { InputError } from '../errors.js';
import { notifyChangedCases, type NotifyResult } from '../notify/notices.js';
import { changeLines } from '../report/check-lines.js';
import { ENV } from '../runtime/env.js';
import type { CheckOptions } from './commands/check.js';
import { SourceUnreadableError, type CliContext } from './context.js';
import { terminalProgress } from './progress.js';
import { boundedInteger, oneLine } from './validate.js';
import { SweepStateFile } from '../adapters/local/sweep-state-file.js';
import { SweepReadings } from '../check/sweep-readings.js';
import type { SweepSummary } from '../sweep/sweep.js';

/** What `check --sweep` reports of its sweep (`revwatch sweep --json` gives each URL's result). */
export type CheckSweepSummary = Pick<
  SweepSummary,
  'sweep' | 'startedAt' | 'finishedAt' | 'urls' | 'changed' | 'unchanged' | 'notModified' | 'faults' | 'added' | 'removed'
>;

function ocspLimit(text: string, option: string, range: { min: number; max: number }): number {
  const n = parseOcspLimit(text, option, range);
  if (typeof n === 'string') throw new InputError(n);
  return n;
}

export async function check(ctx: CliContext, opts: CheckOptions): Promise<void> {
  const { io } = ctx;
  const ocspPerHost = ocspLimit(opts.ocspPerHost, '--ocsp-per-host', OCSP_PER_HOST_RANGE);
  const ocspMinIntervalMs = ocspLimit(opts.ocspIntervalMs, '--ocsp-interval-ms', OCSP_INTERVAL_MS_RANGE);
  const sweepWindowMs = boundedInteger(opts.sweepWindow, '--sweep-window', 0, 1440) * 60_000;
  if (!opts.sweep && (opts.owner || opts.ca)) throw new InputError('--owner and --ca narrow the sweep of check --sweep: give --sweep too');
  let notices: NotifyResult[] = [];
  const notes: string[] = [];
  let swept: SweepSummary | null = null;
  let readings: SweepReadings | null = null;
  const summary: CheckSummary = await ctx.withRuntime(
    async (runtime) => {
      const { store, mailer, evidenceFiles, disclosures, goodAnswers } = runtime;
      if (opts.case && !(await store.getCase(opts.case))) throw new InputError(`no case "${opts.case}"`);
      if (opts.sweep && !evidenceFiles) throw new InputError('check --sweep runs on a local home only in this version (no --aws)');
      if (opts.sweep && !(await disclosures.lastImport()))
        throw new InputError('no CCADB disclosures are imported: run `revwatch ccadb import <report>` first (check --sweep sweeps them)');
      // The runtime's fetch stack: OCSP over the keep-alive client, CRLs and everything else over the general fetcher.
      const { fetcher } = await runtime.fetchStack();
      if (evidenceFiles) {
        const stateFile = new SweepStateFile(ctx.home());
        // The sweep first, in this process and under this run's lock; the check then takes the CRLs it read. Its
        // code (the sweep, the revocation index) is loaded only then: a check without --sweep never runs it.
        if (opts.sweep) {
          const [{ runSweep }, { RevocationIndexFiles }] = await Promise.all([
            import('../sweep/sweep.js'),
            import('../adapters/local/revocation-index-files.js'),
          ]);
          swept = await runSweep(
            {
              disclosures,
              fetcher,
              clock: io.clock,
              // Written behind the sweep's reads, flushed before its state is saved.
              index: new RevocationIndexFiles(ctx.home(), { writeBehind: true }),
              state: stateFile,
              evidence: evidenceFiles,
            },
            { owners: opts.owner, cas: opts.ca },
          );
        }
        readings = await sweepReadingsOf(stateFile, evidenceFiles, {
          now: io.clock.now().getTime(),
          windowMs: sweepWindowMs,
          sweep: swept?.sweep ?? null,
        }).catch((err: Error) => {
          notes.push(`  the sweep's readings are not used: ${oneLine(err.message)}`);
          return null;
        });
      }
      const progress = await terminalProgress(ctx, 'sources');
      const saveCrl = evidenceFiles ? (sha: string, bytes: Uint8Array) => evidenceFiles.saveCrl(sha, bytes) : undefined;
      const result = await runCheck(
        { store, fetcher, clock: io.clock, progress, saveCrl, goodAnswers, sweepReadings: readings },
        { caseId: opts.case, ocspPerHost, ocspMinIntervalMs, disclosures },
      ).finally(() => progress?.stop());
      // Notices go out after every check: SES in AWS mode, the local outbox otherwise.
      notices = await notifyChangedCases(
        { store, ledger: store, mailer, clock: io.clock, from: io.env[ENV.sender] ?? 'revwatch@localhost', disclosures },
        { caseId: opts.case },
      );
      return result;
    },
    { onMail: (line) => notes.push(line) },
  );
  const unsent = notices.filter((n) => n.error).map((n) => `  notice for case ${n.caseId} not sent (will retry): ${n.error}`);
  // crlsFetched counts what the check itself fetched; a CRL taken from a sweep's reading is counted apart.
  const fromSweep = (readings as SweepReadings | null)?.reused ?? 0;
  const sweepPart = swept ? sweepSummaryOf(swept) : null;
  const printed = {
    ...summary,
    crlsFetched: summary.crlsFetched - fromSweep,
    crlsFromSweep: fromSweep,
    ...(sweepPart ? { sweep: sweepPart } : {}),
  };
  ctx.print({ ...printed, notices }, () =>
    [...(sweepPart ? [formatSweepLine(sweepPart)] : []), formatSummary(printed, changeLines), ...notes, ...unsent].join('\n'),
  );
  const failed = [
    ...(summary.failedSources.length > 0 ? [`${summary.failedSources.length} source(s) could not be read`] : []),
    ...(sweepPart && sweepPart.faults > 0 ? [`${sweepPart.faults} swept CRL(s) could not be read or verified`] : []),
  ];
  if (failed.length > 0) throw new SourceUnreadableError(failed.join('; '));
}

async function sweepReadingsOf(
  state: SweepStateFile,
  archive: { readCrl(sha256: string): Uint8Array | null },
  options: ConstructorParameters<typeof SweepReadings>[2],
): Promise<SweepReadings | null> {
  const loaded = await state.load();
  return loaded.sweeps.length === 0 ? null : new SweepReadings(loaded, archive, options);
}

function sweepSummaryOf(s: SweepSummary): CheckSweepSummary {
  const { sweep, startedAt, finishedAt, urls, changed, unchanged, notModified, faults, added, removed } = s;
  return { sweep, startedAt, finishedAt, urls, changed, unchanged, notModified, faults, added, removed };
}

function formatSweepLine(s: CheckSweepSummary): string {
  return `sweep ${s.sweep}: ${s.urls} CRL URL(s): ${s.changed} changed, ${s.unchanged} unchanged (${s.notModified} not modified), ${s.faults} fault(s); ${s.added} newly listed, ${s.removed} removed (revwatch crl-health lists the faults)`;
}

function formatSummary(
  s: CheckSummary & { readonly crlsFromSweep: number },
  changeLines: (changes: CheckSummary['changes']) => string[],
): string {
  const verdicts =
    Object.entries(s.verdicts)
      .filter(([, n]) => n > 0)
      .map(([v, n]) => `${v} ${n}`)
      .join(', ') || 'none';
  const lines = [
    `checked ${s.certificates} certificate(s): ${s.crlsFetched} CRL fetch(es)${s.crlsFromSweep ? `, ${s.crlsFromSweep} CRL(s) read by the sweep` : ''}, ${s.ocspRequests} OCSP request(s); ${s.notDue} not due (settled, or expired and judged)${s.retiredExpired ? `, ${s.retiredExpired} expired certificate(s) judged and retired` : ''}`,
    `${s.changes.length} change(s), ${s.observationsWritten} observation(s) recorded, ${s.itemsWritten} item(s) written, ${((s.finishedAt - s.startedAt) / 1000).toFixed(1)} s`,
    `verdicts of the certificates checked in this run: ${verdicts} (revwatch status judges every certificate, with the CRL snapshots too)`,
  ];
  for (const line of changeLines(s.changes)) lines.push(line); // a first check can report 100,000s of changes
  for (const f of s.failedSources) lines.push(`  could not read ${f.kind} ${oneLine(f.url)}: ${oneLine(f.error)}`);
  return lines.join('\n');
}
