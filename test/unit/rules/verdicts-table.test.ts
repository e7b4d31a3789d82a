/**
 * VERDICTS in src/rules/verdict.ts is the one spelling of the verdicts: the
 * type, the count order and the report order derive from it. These are the
 * orders revwatch printed before they were derived (JSON summaries key their
 * counts in the first; reports list verdicts in the second), so deriving them
 * changed no output.
 */
import { describe, expect, it } from 'vitest';
import { countVerdicts, noVerdicts, VERDICT_NAMES, VERDICT_REPORT_ORDER, VERDICTS } from '../../../src/rules/verdict.js';

describe('VERDICTS', () => {
  it('keeps counts in the order summaries have always printed them', () => {
    expect(Object.keys(noVerdicts())).toEqual([
      'pending',
      'overdue',
      'revoked_on_time',
      'revoked_late',
      'expired',
      'expired_overdue',
      'no_deadline',
      'undetermined',
    ]);
    expect(VERDICT_NAMES).toEqual(Object.keys(noVerdicts()));
  });

  it('lists verdicts in reports settled first, then open, then the rest', () => {
    expect(VERDICT_REPORT_ORDER).toEqual([
      'revoked_on_time',
      'revoked_late',
      'overdue',
      'pending',
      'expired',
      'expired_overdue',
      'no_deadline',
      'undetermined',
    ]);
  });

  it('gives each verdict its own report rank', () => {
    expect(VERDICTS.map((v) => v.reportRank).sort((a, b) => a - b)).toEqual(VERDICTS.map((_, i) => i));
  });

  it('counts every verdict, zero when absent', () => {
    const counts = countVerdicts([{ verdict: 'overdue' }, { verdict: 'overdue' }, { verdict: 'pending' }]);
    expect(counts).toEqual({ ...noVerdicts(), overdue: 2, pending: 1 });
    expect(Object.keys(counts)).toEqual(VERDICT_NAMES);
  });
});
