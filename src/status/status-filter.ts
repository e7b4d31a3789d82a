/**
 * `status --verdict` and `--fail-on`: which certificates a status shows, and
 * whether any certificate judged has a verdict that should fail a cron job.
 */
import { InputError } from '../errors.js';
import { VERDICT_NAMES, type CertificateStatus, type Verdict } from '../rules/verdict.js';
import type { StatusSink } from './status.js';

/** "overdue,revoked_late" -> the set; an unknown name is bad input (exit 1, one line). */
export function parseVerdicts(text: string, option: string): ReadonlySet<Verdict> {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new InputError(`${option} needs at least one verdict (${VERDICT_NAMES.join(', ')})`);
  for (const n of names)
    if (!VERDICT_NAMES.includes(n as Verdict))
      throw new InputError(`unknown verdict "${n}" in ${option}; accepted: ${VERDICT_NAMES.join(', ')}`);
  return new Set(names as Verdict[]);
}

/**
 * Passes on only the certificates whose verdict is in `shown` (all when null);
 * a case none of whose certificates is shown is left out entirely. Counts the
 * judged certificates whose verdict is in `failOn`, shown or not.
 */
export function filteredSink<S extends StatusSink>(
  sink: S,
  shown: ReadonlySet<Verdict> | null,
  failOn: ReadonlySet<Verdict> | null,
): S & { readonly failing: () => number } {
  let failing = 0;
  let pending: Parameters<StatusSink['caseStart']> | null = null;
  let opened = false;
  const filtered: StatusSink = {
    caseStart(...args) {
      if (shown === null) {
        sink.caseStart(...args);
        opened = true;
      } else {
        pending = args;
        opened = false;
      }
    },
    certificate(status: CertificateStatus) {
      if (failOn?.has(status.verdict)) failing++;
      if (shown !== null && !shown.has(status.verdict)) return;
      if (!opened && pending) {
        sink.caseStart(...pending);
        opened = true;
      }
      return sink.certificate(status);
    },
    caseEnd() {
      if (opened) sink.caseEnd();
      pending = null;
      opened = false;
    },
  };
  return Object.assign(Object.create(sink) as S, sink, filtered, { failing: () => failing });
}
