/**
 * The notifier as a consumer of "Sweep Completed" (src/notify/crl-health-notices.ts): after a sweep, each CA
 * owner with open violation-level CRL-health findings gets one email naming them with their citations; the
 * same sweep's event delivered again sends nothing; a later sweep's new finding is mailed alone; warnings and
 * resolved findings are not mailed; a refused send is released and sent once by the retry. The ledger is
 * the table sweep state (SWEEP#NOTICES) over the memory table.
 */
import { describe, expect, it } from 'vitest';
import type { EventBridgeEvent } from 'aws-lambda';
import { MemoryTable } from '../../src/adapters/memory/memory-table.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import type { MailMessage } from '../../src/ports/mail.js';
import type { HealthFindingState, SweepRun } from '../../src/ports/revocation-index.js';
import { TableStore } from '../../src/store/table-store.js';
import { TableSweepState } from '../../src/store/table-sweep-state.js';
import { createNotifierHandler } from '../../functions/notifier.js';
import { createObservability } from '../../functions/shared/observability.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const HOUR = 3_600_000;

const completed = (sweep: number): EventBridgeEvent<'Sweep Completed', SweepRun> => ({
  version: '0',
  id: `e${sweep}`,
  'detail-type': 'Sweep Completed',
  source: 'revwatch',
  account: '123456789012',
  time: new Date(NOW).toISOString(),
  region: 'eu-west-1',
  resources: [],
  detail: { sweep, startedAt: NOW - HOUR, finishedAt: NOW, urls: 3, changed: 1, unchanged: 0, faults: 1 },
});

const finding = (code: string, owner: string, url: string, over: Partial<HealthFindingState> = {}): HealthFindingState => ({
  code,
  owner,
  url,
  subject: '',
  message: `${code} at ${url}`,
  firstSeen: NOW - HOUR,
  lastSeen: NOW - HOUR,
  resolvedAt: null,
  ...over,
});

describe('notifier on "Sweep Completed": CRL-health notices, once', () => {
  it('mails each owner its new violations once, and a later sweep only what is new', async () => {
    const table = new MemoryTable();
    const state = new TableSweepState(table);
    await state.putHealth({
      'down a': finding('crl_unreachable', 'Alpha Owner', 'http://crl.alpha.example/a.crl'),
      'nocert a': finding('crl_no_ca_certificate', 'Alpha Owner', 'http://crl.alpha.example/warn.crl'),
      'down b resolved': finding('crl_unreachable', 'Beta Owner', 'http://crl.beta.example/b.crl', { resolvedAt: NOW - 1000 }),
    });
    const mails: MailMessage[] = [];
    let refuse = false;
    const clock = new FakeClock(NOW);
    const handler = createNotifierHandler(() => ({
      store: new TableStore(table),
      mailer: {
        send: async (m) => {
          if (refuse) throw new Error('Throttling: Maximum sending rate exceeded.');
          mails.push(m);
        },
      },
      clock,
      mail: { sender: 'revwatch@ca.example', defaultRecipients: ['compliance@ca.example'], digestRecipients: [] },
      disclosures: null,
      sweepState: state,
      healthNotices: state,
      ...createObservability(),
    }));

    const first = await handler(completed(1));
    const violations = [...mails];
    expect(first.emails).toBe(1);
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({ from: 'revwatch@ca.example', to: ['compliance@ca.example'] });
    expect(violations[0]!.subject).toBe('revwatch: CRL health of Alpha Owner: 1 violation(s) after sweep 1');
    expect(violations[0]!.text).toContain('crl_unreachable: http://crl.alpha.example/a.crl');
    expect(violations[0]!.text).toContain('CCADB Policy 2.1 §6.2');
    // The resolved violation and any warning are not mailed.
    expect(violations[0]!.text).not.toContain('crl.beta.example');
    expect(violations[0]!.text).not.toContain('warn.crl');

    // The same event again (EventBridge delivers at least once): nothing sent twice.
    expect(await handler(completed(1))).toEqual({ emails: 0, notices: 0 });
    expect(mails).toHaveLength(1);

    // The next sweep opens a violation at Beta; SES refuses the first attempt, the retried invocation sends it once.
    await state.putHealth({ 'down b again': finding('crl_unreachable', 'Beta Owner', 'http://crl.beta.example/c.crl') });
    refuse = true;
    await expect(handler(completed(2))).rejects.toThrow(/1 CRL-health notice email\(s\) not sent \(owners Beta Owner\)/);
    refuse = false;
    expect(await handler(completed(2))).toEqual({ emails: 1, notices: 1 });
    expect(await handler(completed(2))).toEqual({ emails: 0, notices: 0 });
    expect(mails.map((m) => m.subject)).toEqual([
      'revwatch: CRL health of Alpha Owner: 1 violation(s) after sweep 1',
      'revwatch: CRL health of Beta Owner: 1 violation(s) after sweep 2',
    ]);
    expect(mails[1]!.text).toContain('http://crl.beta.example/c.crl');
    expect(mails[1]!.text).not.toContain('crl.alpha.example');
  });

  it('a claim whose sender died is taken again after its lease, never after the notice was sent', async () => {
    const state = new TableSweepState(new MemoryTable());
    expect(await state.claimHealthNotice('k', 1, NOW, 15 * 60_000)).toBe(true);
    expect(await state.claimHealthNotice('k', 2, NOW + 60_000, 15 * 60_000)).toBe(false);
    expect(await state.claimHealthNotice('k', 2, NOW + 16 * 60_000, 15 * 60_000)).toBe(true);
    await state.markHealthNoticeSent('k', 2, NOW + 17 * 60_000);
    expect(await state.claimHealthNotice('k', 3, NOW + 48 * HOUR, 15 * 60_000)).toBe(false);
  });
});
