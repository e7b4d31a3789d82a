/**
 * Notices: which are due for a case, and sending them exactly once.
 *
 * Exactly once: each notice key is claimed in the ledger with a conditional
 * write before the email is sent, and marked sent after. A crash between the
 * two leaves the claim to lapse (after `leaseMs`) and the next run sends it;
 * a failed send releases the claim at once, so nothing is lost. (A crash after
 * the mail left but before it was marked sent can still repeat it once the
 * lease lapses: SES has no idempotency key to close that window.)
 */
import { randomUUID } from 'node:crypto';
import type { Case } from '../domain.js';
import { buildStatus, type CaseStatus } from '../check/status.js';
import { computeDeadline } from '../rules/rules.js';
import { delayedReportSentence } from '../rules/incident-duties.js';
import type { CertificateStatus } from '../rules/verdict.js';
import { statusCsv } from '../report/formats.js';
import type { Clock } from '../ports.js';
import type { Store } from '../store/store.js';
import { formatDuration, iso } from '../time.js';

export interface MailMessage {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  readonly date: Date;
  readonly attachments: readonly { filename: string; contentType: string; content: string }[];
}

/** Sends one message; throws when it could not be handed over. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export type NoticeKind = 'deadline-approaching' | 'should-deadline' | 'deadline-missed' | 'revoked' | 'finding';

export interface Notice {
  /** Stable per case: the ledger key. */
  readonly key: string;
  readonly kind: NoticeKind;
  readonly line: string;
}

export interface NoticeLedger {
  /** Claims keys not yet sent (new, released, or whose claim lapsed). Returns the keys this run now holds. */
  claimNotices(caseId: string, keys: readonly string[], runId: string, now: number, leaseMs: number): Promise<string[]>;
  markNoticesSent(caseId: string, keys: readonly string[], runId: string, now: number): Promise<void>;
  releaseNotices(caseId: string, keys: readonly string[], runId: string): Promise<void>;
  listNotices(caseId: string): Promise<{ key: string; state: string }[]>;
}

const HOUR = 3_600_000;
const h = (seconds: number | null): string => (seconds === null ? '' : formatDuration(seconds));

/** The notices a case's current status calls for (design: deadline near, missed, revoked, new finding). */
export function dueNotices(kase: Case, status: CaseStatus, now: number, approachingMs = 6 * HOUR): Notice[] {
  const d = computeDeadline(kase);
  const out: Notice[] = [];
  const open = status.certificates.filter((c) => c.verdict === 'pending');
  if (d.deadline !== null && open.length > 0 && now >= d.deadline - approachingMs && now < d.deadline) {
    out.push({ key: 'deadline-approaching', kind: 'deadline-approaching', line: `${open.length} certificate(s) not yet revoked; the MUST deadline is ${iso(d.deadline)}` });
  }
  if (d.shouldDeadline !== null && d.deadline !== null && open.length > 0 && now >= d.shouldDeadline && now < d.deadline) {
    out.push({ key: 'should-deadline', kind: 'should-deadline', line: `the SHOULD deadline ${iso(d.shouldDeadline)} has passed with ${open.length} certificate(s) not revoked` });
  }
  const overdue = status.certificates.filter((c) => c.verdict === 'overdue' || c.verdict === 'expired_overdue');
  const late = status.certificates.filter((c) => c.verdict === 'revoked_late');
  if (overdue.length > 0 || late.length > 0) {
    // The duty to file a separate delayed-revocation report follows a missed deadline (incident-duties.ts).
    const duty = delayedReportSentence(d.deadline, kase.delayedReportUrl);
    const counts = late.length > 0 ? `${overdue.length + late.length} certificate(s) (${overdue.length} not revoked, ${late.length} revoked late)` : `${overdue.length} certificate(s)`;
    out.push({ key: 'deadline-missed', kind: 'deadline-missed', line: `the MUST deadline ${d.deadline ? iso(d.deadline) : ''} was missed for ${counts}${duty ? `. ${duty}` : ''}` });
  }
  for (const c of status.certificates) {
    if (c.verdict === 'revoked_on_time' || c.verdict === 'revoked_late') {
      out.push({ key: `revoked:${c.sha256}`, kind: 'revoked', line: `serial ${c.serial} revoked ${c.effectiveRevocationTime}${c.verdict === 'revoked_late' ? `, ${h(c.lateBySeconds)} late` : ', on time'}` });
    }
    for (const f of c.findings) {
      if (f.severity === 'info') continue;
      out.push({ key: `finding:${c.sha256}:${f.code}`, kind: 'finding', line: `serial ${c.serial}: ${f.severity} ${f.code}: ${f.message}` });
    }
  }
  return out;
}

export interface NotifyDeps {
  readonly store: Store;
  readonly ledger: NoticeLedger;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly from: string;
  readonly defaultRecipients?: readonly string[];
  readonly leaseMs?: number;
}

export interface NotifyResult {
  readonly caseId: string;
  readonly sent: number;
  readonly notices: readonly Notice[];
  readonly error: string | null;
}

/** Rows in the body; the CSV attachment always carries every certificate (an incident can hold 80,000). */
const BODY_ROWS = 50;

export function composeEmail(kase: Case, status: CaseStatus, notices: readonly Notice[], from: string, to: readonly string[], now: number): MailMessage {
  const count = (k: NoticeKind): number => notices.filter((n) => n.kind === k).length;
  const headline = [
    count('deadline-missed') ? 'deadline missed' : '',
    count('deadline-approaching') ? 'deadline approaching' : '',
    count('should-deadline') ? 'SHOULD deadline passed' : '',
    count('revoked') ? `${count('revoked')} revoked` : '',
    count('finding') ? `${count('finding')} new finding(s)` : '',
  ].filter(Boolean).join(', ');
  const verdicts = new Map<string, number>();
  for (const c of status.certificates) verdicts.set(c.verdict, (verdicts.get(c.verdict) ?? 0) + 1);
  const rows = status.certificates.slice(0, BODY_ROWS).map((c: CertificateStatus) => `  ${c.serial.padEnd(34)} ${c.verdict.padEnd(16)} ${(c.effectiveRevocationTime ?? '-').padEnd(21)} ${h(c.lateBySeconds)}`);
  const text = [
    `${kase.title} (case ${kase.id})`,
    `Reported ${status.reportedAt}; reason ${kase.reason}; ${status.certificates.length} certificate(s).`,
    kase.notifiedBy ? `Notified by: ${kase.notifiedBy}` : '',
    kase.reportUrl ? `Incident: ${kase.reportUrl}` : '',
    kase.delayedReportUrl ? `Delayed-revocation report: ${kase.delayedReportUrl}` : '',
    '',
    'What happened since the last notice:',
    ...notices.map((n) => `- ${n.line}`),
    '',
    `Counts: ${[...verdicts].map(([v, n]) => `${v} ${n}`).join(', ')}`,
    '',
    `Certificates${status.certificates.length > BODY_ROWS ? ` (first ${BODY_ROWS} of ${status.certificates.length}; all are in the attached CSV)` : ''}:`,
    ...rows,
    '',
    '-- revwatch',
  ].filter((l, i, all) => !(l === '' && all[i - 1] === ''));
  const csv = statusCsv(status);
  return {
    from,
    to,
    subject: `[revwatch] ${kase.title}: ${headline}`,
    text: text.join('\n'),
    date: new Date(now),
    attachments: [{ filename: `${kase.id}-certificates.csv`, contentType: 'text/csv', content: csv }],
  };
}

/**
 * Whether a case can have a notice due without anything having changed in
 * this run: a notice whose send failed or whose claim lapsed is waiting, or a
 * deadline window is open and its notice has not been sent.
 */
async function noticePossible(kase: Case, now: number, ledger: NoticeLedger, approachingMs: number): Promise<boolean> {
  const ledgerEntries = await ledger.listNotices(kase.id);
  if (ledgerEntries.some((n) => n.state !== 'sent')) return true;
  const d = computeDeadline(kase);
  if (d.deadline === null) return false;
  const open: string[] = [];
  if (now >= d.deadline - approachingMs && now < d.deadline) open.push('deadline-approaching');
  if (d.shouldDeadline !== null && now >= d.shouldDeadline && now < d.deadline) open.push('should-deadline');
  if (now >= d.deadline) open.push('deadline-missed');
  const sent = new Set(ledgerEntries.map((n) => n.key));
  return open.some((k) => !sent.has(k));
}

/**
 * Sends the due notices of every case (or one), one email per case per run.
 * Building a case's status reads its whole history, so it is done only for
 * cases that have recipients and either changed in this run (`changedCaseIds`)
 * or may have a deadline notice due; without `changedCaseIds` every case with
 * recipients is evaluated.
 */
export async function sendNotices(deps: NotifyDeps, options: { caseId?: string; changedCaseIds?: ReadonlySet<string> } = {}): Promise<NotifyResult[]> {
  const now = deps.clock.now().getTime();
  const runId = randomUUID();
  const approachingMs = 6 * HOUR;
  const cases = options.caseId ? [await deps.store.getCase(options.caseId)].filter((c): c is Case => c !== null) : await deps.store.listCases();
  const results: NotifyResult[] = [];
  for (const kase of cases.sort((a, b) => a.id.localeCompare(b.id))) {
    const to = [...new Set([...(kase.notify ?? []), ...(deps.defaultRecipients ?? [])])];
    if (to.length === 0) continue;
    const changed = !options.changedCaseIds || options.changedCaseIds.has(kase.id);
    if (!changed && !(await noticePossible(kase, now, deps.ledger, approachingMs))) continue;
    const status = (await buildStatus(deps.store, now, kase.id)).cases[0]!;
    const due = dueNotices(kase, status, now, approachingMs);
    if (due.length === 0) continue;
    const claimed = new Set(await deps.ledger.claimNotices(kase.id, due.map((n) => n.key), runId, now, deps.leaseMs ?? 5 * 60_000));
    const mine = due.filter((n) => claimed.has(n.key));
    if (mine.length === 0) continue;
    try {
      await deps.mailer.send(composeEmail(kase, status, mine, deps.from, to, now));
    } catch (err) {
      await deps.ledger.releaseNotices(kase.id, [...claimed], runId);
      results.push({ caseId: kase.id, sent: 0, notices: mine, error: (err as Error).message });
      continue;
    }
    await deps.ledger.markNoticesSent(kase.id, [...claimed], runId, deps.clock.now().getTime());
    results.push({ caseId: kase.id, sent: 1, notices: mine, error: null });
  }
  return results;
}

/**
 * Sends the notices a check may have made due: for the cases the check marked
 * changed (Store.markCasesChanged), and for any case with a deadline window
 * open or a notice waiting. The marks are cleared afterwards, except where the
 * send failed (tried again next time) or a new change came in meanwhile. The
 * CLI calls this after `check`; in AWS the notifier calls it after each run.
 */
export async function notifyChangedCases(deps: NotifyDeps, options: { caseId?: string } = {}): Promise<NotifyResult[]> {
  const marks = await deps.store.listChangedCases();
  if (options.caseId) for (const id of [...marks.keys()]) if (id !== options.caseId) marks.delete(id);
  const results = await sendNotices(deps, { caseId: options.caseId, changedCaseIds: new Set(marks.keys()) });
  for (const r of results) if (r.error) marks.delete(r.caseId);
  await deps.store.clearChangedCases(marks);
  return results;
}
