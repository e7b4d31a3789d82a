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
import { oneLine } from './validate.js';

function ocspLimit(text: string, option: string, range: { min: number; max: number }): number {
  const n = parseOcspLimit(text, option, range);
  if (typeof n === 'string') throw new InputError(n);
  return n;
}

export async function check(ctx: CliContext, opts: CheckOptions): Promise<void> {
  const { io } = ctx;
  const ocspPerHost = ocspLimit(opts.ocspPerHost, '--ocsp-per-host', OCSP_PER_HOST_RANGE);
  const ocspMinIntervalMs = ocspLimit(opts.ocspIntervalMs, '--ocsp-interval-ms', OCSP_INTERVAL_MS_RANGE);
  let notices: NotifyResult[] = [];
  const notes: string[] = [];
  const summary: CheckSummary = await ctx.withRuntime(
    async (runtime) => {
      const { store, mailer, evidenceFiles, disclosures, goodAnswers } = runtime;
      if (opts.case && !(await store.getCase(opts.case))) throw new InputError(`no case "${opts.case}"`);
      // The runtime's fetch stack: OCSP over the keep-alive client, CRLs and everything else over the general fetcher.
      const { fetcher } = await runtime.fetchStack();
      const progress = await terminalProgress(ctx, 'sources');
      const saveCrl = evidenceFiles ? (sha: string, bytes: Uint8Array) => evidenceFiles.saveCrl(sha, bytes) : undefined;
      const result = await runCheck(
        { store, fetcher, clock: io.clock, progress, saveCrl, goodAnswers },
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
  ctx.print({ ...summary, notices }, () => [formatSummary(summary, changeLines), ...notes, ...unsent].join('\n'));
  if (summary.failedSources.length > 0) throw new SourceUnreadableError(`${summary.failedSources.length} source(s) could not be read`);
}

function formatSummary(s: CheckSummary, changeLines: (changes: CheckSummary['changes']) => string[]): string {
  const verdicts =
    Object.entries(s.verdicts)
      .filter(([, n]) => n > 0)
      .map(([v, n]) => `${v} ${n}`)
      .join(', ') || 'none';
  const lines = [
    `checked ${s.certificates} certificate(s): ${s.crlsFetched} CRL fetch(es), ${s.ocspRequests} OCSP request(s); ${s.notDue} not due (settled, or expired and judged)${s.retiredExpired ? `, ${s.retiredExpired} expired certificate(s) judged and retired` : ''}`,
    `${s.changes.length} change(s), ${s.observationsWritten} observation(s) recorded, ${s.itemsWritten} item(s) written, ${((s.finishedAt - s.startedAt) / 1000).toFixed(1)} s`,
    `verdicts of the certificates checked in this run: ${verdicts} (revwatch status judges every certificate, with the CRL snapshots too)`,
  ];
  for (const line of changeLines(s.changes)) lines.push(line); // a first check can report 100,000s of changes
  for (const f of s.failedSources) lines.push(`  could not read ${f.kind} ${oneLine(f.url)}: ${oneLine(f.error)}`);
  return lines.join('\n');
}
