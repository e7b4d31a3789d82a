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
import { buildStatus, statusRulesOf, type CaseStatus, type JudgingInputs } from '../status/status.js';
import { computeDeadline, type Deadline } from '../rules/rules.js';
import { delayedReportMayBeDueSentence, delayedReportSentence } from '../rules/incident-duties.js';
import type { CertificateStatus } from '../rules/verdict.js';
import { statusCsv } from '../report/formats.js';
import type { CaseStore, Clock, MailMessage, Mailer, NoticeLedger, ObservationStore, RunStore } from '../ports/index.js';
import { formatDuration, iso as isoInstant } from '../time.js';

export interface Notice {
  /** Stable per case: the ledger key. */
  readonly key: string;
  readonly kind: NoticeKind;
  readonly line: string;
}

const HOUR = 3_600_000;
const h = (seconds: number | null): string => (seconds === null ? '' : formatDuration(seconds));
const iso = (ms: number | null): string => (ms === null ? '' : isoInstant(ms));

/**
 * The two revocation times, each named: what the CA claimed (the earliest revocationTime it signed) and
 * the effective time the deadline is judged on, which a signed "good" dated after the claim moves later
 * (docs/evidence.md, "Effective revocation time"). Showing only one would let a moved time read as the CA's.
 */
export function revocationTimes(c: Pick<CertificateStatus, 'revocationTime' | 'effectiveRevocationTime'>): string {
  const claimed = c.revocationTime ?? '-';
  const effective = c.effectiveRevocationTime ?? '-';
  return claimed === effective
    ? `claimed revocation time ${claimed}, effective revocation time the same`
    : `claimed revocation time ${claimed}, effective revocation time ${effective} (a signed "good" answer was dated after the claimed time)`;
}

/** What a case-wide notice kind reads to decide whether it is due. */
interface CaseNoticeContext {
  readonly kase: Case;
  readonly d: Deadline;
  readonly status: CaseStatus;
  /** Certificates not yet revoked whose deadline is still ahead. */
  readonly open: readonly CertificateStatus[];
  /** The kind's own deadline window (`window`) is open now. */
  readonly windowOpen: boolean;
  readonly now: number;
}

type NoticeKindSpec =
  | {
      /** One notice per case, keyed by the kind itself. */
      readonly scope: 'case';
      /**
       * Whether the deadline window of this kind is open at `now`. Read twice: by `dueNotices`, and by
       * `noticePossible`, which decides without building the case's status whether it must be looked at.
       */
      readonly window: (d: Deadline, now: number, approachingMs: number) => boolean;
      /** The notice's line when it is due, null otherwise. */
      readonly due: (ctx: CaseNoticeContext) => string | null;
      /** The subject's part for `count` notices of this kind. */
      readonly headline: (count: number) => string;
    }
  | {
      /** Notices per certificate, with their own keys (a certificate's revocation, its findings). */
      readonly scope: 'certificate';
      readonly due: (c: CertificateStatus) => { key: string; line: string }[];
      readonly headline: (count: number) => string;
    };

/**
 * Every notice kind: when it is due, and how the email's subject names it.
 * The order is the subject's order (the most pressing first), and the order
 * of the notices in the body: case-wide kinds, then certificate by
 * certificate. A new kind is one more row.
 */
export const NOTICE_KINDS = {
  'deadline-missed': {
    scope: 'case',
    window: (d, now) => d.deadline !== null && now >= d.deadline,
    due: ({ kase, d, status }) => {
      const overdue = status.certificates.filter((c) => c.verdict === 'overdue' || c.verdict === 'expired_overdue');
      const late = status.certificates.filter((c) => c.verdict === 'revoked_late');
      if (overdue.length === 0 && late.length === 0) return null;
      // The duty to file a separate delayed-revocation report follows a missed deadline (incident-duties.ts).
      const duty = delayedReportSentence(d.deadline, kase.delayedReportUrl);
      const counts =
        late.length > 0
          ? `${overdue.length + late.length} certificate(s) (${overdue.length} not revoked, ${late.length} revoked late)`
          : `${overdue.length} certificate(s)`;
      return `the MUST deadline ${iso(d.deadline)} was missed for ${counts}${duty ? `. ${duty}` : ''}`;
    },
    headline: () => 'deadline missed',
  },
  'deadline-approaching': {
    scope: 'case',
    window: (d, now, approachingMs) => d.deadline !== null && now >= d.deadline - approachingMs && now < d.deadline,
    due: ({ d, open, windowOpen, now }) => {
      if (!windowOpen || open.length === 0) return null;
      // The CCADB guidelines ask for the delayed-revocation report once the deadline will not be met (incident-duties.ts).
      const early = delayedReportMayBeDueSentence(d.deadline, now, open.length);
      return `${open.length} certificate(s) not yet revoked; the MUST deadline is ${iso(d.deadline)}${early ? `. ${early}` : ''}`;
    },
    headline: () => 'deadline approaching',
  },
  'should-deadline': {
    scope: 'case',
    window: (d, now) => d.shouldDeadline !== null && d.deadline !== null && now >= d.shouldDeadline && now < d.deadline,
    due: ({ d, open, windowOpen }) =>
      windowOpen && open.length > 0
        ? `the SHOULD deadline ${iso(d.shouldDeadline)} has passed with ${open.length} certificate(s) not revoked`
        : null,
    headline: () => 'SHOULD deadline passed',
  },
  revoked: {
    scope: 'certificate',
    due: (c) =>
      c.verdict === 'revoked_on_time' || c.verdict === 'revoked_late'
        ? [
            {
              key: `revoked:${c.sha256}`,
              line: `serial ${c.serial} revoked${c.verdict === 'revoked_late' ? `, ${h(c.lateBySeconds)} late` : ', on time'}: ${revocationTimes(c)}`,
            },
          ]
        : [],
    headline: (count) => `${count} revoked`,
  },
  finding: {
    scope: 'certificate',
    due: (c) =>
      c.findings
        .filter((f) => f.severity !== 'info')
        .map((f) => ({ key: `finding:${c.sha256}:${f.code}`, line: `serial ${c.serial}: ${f.severity} ${f.code}: ${f.message}` })),
    headline: (count) => `${count} new finding(s)`,
  },
} as const satisfies Record<string, NoticeKindSpec>;

export type NoticeKind = keyof typeof NOTICE_KINDS;

const noticeKinds = Object.entries(NOTICE_KINDS) as [NoticeKind, NoticeKindSpec][];

/** The notices a case's current status calls for (deadline near, SHOULD deadline passed, missed, revoked, new finding). */
export function dueNotices(kase: Case, status: CaseStatus, now: number, approachingMs = 6 * HOUR): Notice[] {
  const d = computeDeadline(kase);
  const open = status.certificates.filter((c) => c.verdict === 'pending');
  const out: Notice[] = [];
  for (const [kind, spec] of noticeKinds) {
    if (spec.scope !== 'case') continue;
    const line = spec.due({ kase, d, status, open, windowOpen: spec.window(d, now, approachingMs), now });
    if (line !== null) out.push({ key: kind, kind, line });
  }
  for (const c of status.certificates) {
    for (const [kind, spec] of noticeKinds) {
      if (spec.scope === 'certificate') for (const n of spec.due(c)) out.push({ ...n, kind });
    }
  }
  return out;
}

export interface NotifyDeps extends JudgingInputs {
  readonly store: CaseStore & ObservationStore & RunStore;
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

export function composeEmail(
  kase: Case,
  status: CaseStatus,
  notices: readonly Notice[],
  from: string,
  to: readonly string[],
  now: number,
): MailMessage {
  const headline = noticeKinds
    .map(([kind, spec]) => [spec, notices.filter((n) => n.kind === kind).length] as const)
    .filter(([, count]) => count > 0)
    .map(([spec, count]) => spec.headline(count))
    .join(', ');
  const verdicts = new Map<string, number>();
  for (const c of status.certificates) verdicts.set(c.verdict, (verdicts.get(c.verdict) ?? 0) + 1);
  const rows = status.certificates
    .slice(0, BODY_ROWS)
    .map(
      (c: CertificateStatus) =>
        `  ${c.serial.padEnd(34)} ${c.verdict.padEnd(16)} ${(c.revocationTime ?? '-').padEnd(24)} ${(c.effectiveRevocationTime ?? '-').padEnd(24)} ${h(c.lateBySeconds)}`,
    );
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
    `  ${'serial'.padEnd(34)} ${'verdict'.padEnd(16)} ${'claimed revocation'.padEnd(24)} ${'effective revocation'.padEnd(24)} late by`,
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
  const sent = new Set(ledgerEntries.map((n) => n.key));
  return noticeKinds.some(([kind, spec]) => spec.scope === 'case' && spec.window(d, now, approachingMs) && !sent.has(kind));
}

/**
 * Sends the due notices of every case (or one), one email per case per run.
 * Building a case's status reads its whole history, so it is done only for
 * cases that have recipients and either changed in this run (`changedCaseIds`)
 * or may have a deadline notice due; without `changedCaseIds` every case with
 * recipients is evaluated.
 */
export async function sendNotices(
  deps: NotifyDeps,
  options: { caseId?: string; changedCaseIds?: ReadonlySet<string> } = {},
): Promise<NotifyResult[]> {
  const now = deps.clock.now().getTime();
  const runId = randomUUID();
  const approachingMs = 6 * HOUR;
  const cases = options.caseId
    ? [await deps.store.getCase(options.caseId)].filter((c): c is Case => c !== null)
    : await deps.store.listCases();
  const results: NotifyResult[] = [];
  for (const kase of cases.sort((a, b) => a.id.localeCompare(b.id))) {
    const to = [...new Set([...(kase.notify ?? []), ...(deps.defaultRecipients ?? [])])];
    if (to.length === 0) continue;
    const changed = !options.changedCaseIds || options.changedCaseIds.has(kase.id);
    if (!changed && !(await noticePossible(kase, now, deps.ledger, approachingMs))) continue;
    const status = (await buildStatus(deps.store, now, kase.id, statusRulesOf(deps))).cases[0]!;
    const due = dueNotices(kase, status, now, approachingMs);
    if (due.length === 0) continue;
    const claimed = new Set(
      await deps.ledger.claimNotices(
        kase.id,
        due.map((n) => n.key),
        runId,
        now,
        deps.leaseMs ?? 5 * 60_000,
      ),
    );
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
