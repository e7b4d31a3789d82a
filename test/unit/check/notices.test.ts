/**
 * Notices after checks, on the in-memory store (which is also the notice
 * ledger): sent once per news, the changed-case marks cleared afterwards,
 * a failed send kept for the next run.
 */
import { describe, expect, it } from 'vitest';
import { notifyChangedCases, type NotifyDeps } from '../../../src/notify/notices.js';
import type { MailMessage, Mailer } from '../../../src/ports/index.js';
import { HOUR, makeWorld, T0, type World } from './world.js';

class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  failNext = false;
  async send(m: MailMessage): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('SES: Throttling, maximum sending rate exceeded');
    }
    this.sent.push(m);
  }
}

const deps = (w: World, mailer: Mailer): NotifyDeps => ({
  store: w.store,
  ledger: w.store,
  disclosures: null,
  mailer,
  clock: w.clock,
  from: 'revwatch@test.example',
});

describe('notifyChangedCases', () => {
  it('mails a revocation once, clears the mark, and stays quiet while nothing is new', async () => {
    const w = await makeWorld([{ name: 'a' }, { name: 'b' }], { notify: ['incident@reporter.example'] });
    const mailer = new RecordingMailer();
    await w.check();
    // First answers are changes (the case is marked), but nothing calls for a notice yet.
    expect(await notifyChangedCases(deps(w, mailer))).toEqual([]);
    expect(mailer.sent).toEqual([]);
    expect(await w.store.listChangedCases()).toEqual(new Map());

    w.clock.set(T0 + 2 * HOUR);
    w.fetcher.revoke(w.certs.a!.serial, T0 + HOUR, 1);
    await w.check();
    const results = await notifyChangedCases(deps(w, mailer));
    expect(results.map((r) => [r.caseId, r.sent, r.error])).toEqual([['c1', 1, null]]);
    expect(results[0]!.notices.map((n) => n.key)).toEqual([`revoked:${w.certs.a!.sha256}`]);
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]).toMatchObject({ to: ['incident@reporter.example'], subject: '[revwatch] Key compromise at Unit CA: 1 revoked' });
    expect(mailer.sent[0]!.text).toContain(`serial ${w.certs.a!.serial} revoked`);
    expect(mailer.sent[0]!.attachments[0]!.content.trim().split('\r\n')).toHaveLength(1 + 2);
    expect(await w.store.listNotices('c1')).toMatchObject([{ key: `revoked:${w.certs.a!.sha256}`, state: 'sent' }]);
    expect(await w.store.listChangedCases()).toEqual(new Map());

    w.clock.advance(HOUR);
    await w.check();
    expect(await notifyChangedCases(deps(w, mailer))).toEqual([]);
    expect(mailer.sent).toHaveLength(1);
  });

  it('sends a deadline notice when its window opens, though nothing changed in the run', async () => {
    const w = await makeWorld([{ name: 'a' }], { notify: ['incident@reporter.example'] });
    const mailer = new RecordingMailer();
    await w.check();
    await notifyChangedCases(deps(w, mailer));
    // Six hours before the 24-hour deadline.
    w.clock.set(T0 + 19 * HOUR);
    const s = await w.check();
    expect(s.changes).toEqual([]);
    const results = await notifyChangedCases(deps(w, mailer));
    expect(results.flatMap((r) => r.notices.map((n) => n.key))).toEqual(['deadline-approaching']);
    expect(mailer.sent.map((m) => m.subject)).toEqual(['[revwatch] Key compromise at Unit CA: deadline approaching']);
    w.clock.advance(HOUR);
    expect(await notifyChangedCases(deps(w, mailer))).toEqual([]);
  });

  it('keeps the mark and releases the claim when the send fails, so the next run sends it', async () => {
    const w = await makeWorld([{ name: 'a' }], { notify: ['incident@reporter.example'] });
    const mailer = new RecordingMailer();
    await w.check();
    await notifyChangedCases(deps(w, mailer));
    w.clock.set(T0 + 2 * HOUR);
    w.fetcher.revoke(w.certs.a!.serial, T0 + HOUR, 1);
    await w.check();
    mailer.failNext = true;
    const failed = await notifyChangedCases(deps(w, mailer));
    expect(failed.map((r) => [r.sent, r.error])).toEqual([[0, 'SES: Throttling, maximum sending rate exceeded']]);
    expect([...(await w.store.listChangedCases()).keys()]).toEqual(['c1']);
    expect(await w.store.listNotices('c1')).toMatchObject([{ state: 'released' }]);
    w.clock.advance(5 * 60_000);
    const retried = await notifyChangedCases(deps(w, mailer));
    expect(retried.map((r) => [r.sent, r.error])).toEqual([[1, null]]);
    expect(mailer.sent).toHaveLength(1);
    expect(await w.store.listChangedCases()).toEqual(new Map());
  });
});
