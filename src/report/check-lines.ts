/**
 * The lines `check` prints about what changed, for people: revocations with
 * their reason by name (RFC 5280 5.3.1 CRLReason), times to the second, and
 * the lines sorted by case, serial and source so two runs read alike. The
 * stored change summaries (jobs.ts describeAnswer) stay as they are: they are
 * compared across runs to find changes, so only their display is translated.
 */
import { reasonName } from '../pki/oids.js';
import { iso } from '../time.js';
import { oneLine } from '../util/terminal.js';
import type { Change } from '../check/execute.js';

/** "revoked@2026-05-01T01:00:00.000Z/1" -> "revoked at 2026-05-01T01:00:00Z (keyCompromise)"; "error:timeout" -> "error (timeout)". */
export function humanAnswer(summary: string): string {
  const revoked = /^revoked@([^/]+)\/(-|\d+)$/.exec(summary);
  if (revoked) {
    const at = Date.parse(revoked[1]!);
    const reason = revoked[2] === '-' ? 'no reason given' : reasonName(Number(revoked[2]));
    return `revoked at ${Number.isNaN(at) ? revoked[1] : iso(at)} (${reason})`;
  }
  const error = /^error:(.*)$/.exec(summary);
  if (error) return `error (${error[1]})`;
  return summary;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Changes sorted by case, then serial, then source. A certificate in several cases sorts under its first. */
export function sortChanges(changes: readonly Change[]): Change[] {
  const caseOf = (c: Change): string => [...c.caseIds].sort()[0] ?? '';
  return [...changes].sort((a, b) => compare(caseOf(a), caseOf(b)) || compare(a.serial, b.serial) || compare(a.source, b.source));
}

/** One line per change, at most `limit`, then how many more. */
export function changeLines(changes: readonly Change[], limit = 20): string[] {
  const sorted = sortChanges(changes);
  const lines = sorted
    .slice(0, limit)
    .map((c) => `  ${[...c.caseIds].sort().join(',')}  ${c.serial}  ${oneLine(c.source)}: ${humanAnswer(c.from)} -> ${humanAnswer(c.to)}`);
  if (sorted.length > limit) lines.push(`  ... and ${sorted.length - limit} more`);
  return lines;
}
