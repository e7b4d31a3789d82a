/**
 * NOTICE_KINDS is the one table of notice kinds: the subject names the kinds
 * in the table's order, and the deadline windows dueNotices uses are the ones
 * the notifier's "may a notice be due?" shortcut uses.
 */
import { describe, expect, it } from 'vitest';
import type { Case } from '../../../src/domain.js';
import { NOTICE_KINDS, composeEmail, dueNotices, type Notice } from '../../../src/notify/notices.js';
import { computeDeadline } from '../../../src/rules/rules.js';
import type { CaseStatus } from '../../../src/status/status.js';

const HOUR = 3_600_000;
const reportedAt = Date.parse('2026-05-01T00:00:00Z');
const kase: Case = {
  id: 'k',
  title: 'Misissuance at Unit CA',
  reportedAt,
  reason: 'misissuance',
  kind: 'tls-subscriber',
  notify: ['a@b.example'],
};
const pending = {
  sha256: 'a'.repeat(64),
  serial: '01',
  subject: 'CN=unit.example',
  verdict: 'pending',
  findings: [],
  effectiveRevocationTime: null,
  lateBySeconds: null,
} as unknown as CaseStatus['certificates'][number];
const status: CaseStatus = {
  id: 'k',
  title: kase.title,
  reportedAt: '2026-05-01T00:00:00Z',
  reason: kase.reason,
  kind: kase.kind,
  certificates: [pending],
};

describe('NOTICE_KINDS', () => {
  it('names every kind in the subject, in the table order', () => {
    const notices: Notice[] = (Object.keys(NOTICE_KINDS) as (keyof typeof NOTICE_KINDS)[])
      .reverse()
      .map((kind) => ({ key: kind, kind, line: kind }));
    expect(composeEmail(kase, status, notices, 'r@x.example', ['a@b.example'], reportedAt).subject).toBe(
      '[revwatch] Misissuance at Unit CA: deadline missed, deadline approaching, SHOULD deadline passed, 1 revoked, 1 new finding(s)',
    );
  });

  it('a case-wide notice is due exactly while its window is open (5-day rule: SHOULD at 24 h, approaching 6 h before 120 h)', () => {
    const d = computeDeadline(kase);
    for (const hoursIn of [1, 23, 24, 100, 114, 119, 121]) {
      const now = reportedAt + hoursIn * HOUR;
      const due = dueNotices(kase, status, now).map((n) => n.kind);
      const open = Object.entries(NOTICE_KINDS)
        .filter(([kind, spec]) => spec.scope === 'case' && kind !== 'deadline-missed' && spec.window(d, now, 6 * HOUR))
        .map(([kind]) => kind);
      expect(due, `${hoursIn} h after the report`).toEqual(open);
    }
    expect(dueNotices(kase, status, reportedAt + 115 * HOUR).map((n) => n.kind)).toEqual(['deadline-approaching', 'should-deadline']);
    expect(dueNotices(kase, status, reportedAt + 23 * HOUR)).toEqual([]);
  });
});
