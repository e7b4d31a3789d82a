/**
 * Settled certificates cost nothing per certificate while their answers stand (issue 29, check/settled-round.ts):
 * the daily re-ask of a certificate revoked on verified evidence still happens, but an unchanged answer writes
 * neither an observation nor the record; the source's state is the heartbeat. A change is still caught.
 */
import { describe, expect, it } from 'vitest';
import { recordObservations } from '../../../src/rules/evidence.js';
import { verifyEvidence } from '../../../src/status/verify-evidence.js';
import { judge } from '../../../src/rules/verdict.js';
import { buildStatus } from '../../../src/status/status.js';
import { iso } from '../../../src/time.js';
import type { Table } from '../../../src/ports/table.js';
import { DAY, HOUR, makeWorld, T0, type World } from './world.js';

const MINUTE = 60_000;

/**
 * `total` certificates, the first `settled` of them revoked at T0 + 1 h and recorded at T0 + 2 h; the pending
 * ones' daily heartbeat written at T0 + 1 day + 1 h. The clock is left at T0 + 1 day + 3 h, when the
 * settled certificates' first daily re-ask is due and the pending ones' heartbeat is not.
 */
async function settledWorld(total: number, settled: number): Promise<{ w: World; names: string[] }> {
  const names = Array.from({ length: total }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const w = await makeWorld(names.map((name) => ({ name })));
  await w.check();
  w.clock.set(T0 + 2 * HOUR);
  for (const name of names.slice(0, settled)) w.fetcher.revoke(w.certs[name]!.serial, T0 + HOUR, 1);
  const revoked = await w.check();
  expect(revoked.changes).toHaveLength(2 * settled);
  w.clock.set(T0 + DAY + HOUR);
  // Settled ones are not due yet (a day after their answers): only the pending ones are asked.
  expect(await w.check()).toMatchObject({ certificates: total - settled });
  w.clock.set(T0 + DAY + 3 * HOUR);
  return { w, names };
}

describe('settled certificates in their sources daily rounds', () => {
  it('an unchanged daily re-check of 90 % settled certificates writes no more than the pending ones, the sources and 1 %', async () => {
    const total = 60;
    const pending = 6;
    const { w, names } = await settledWorld(total, total - pending);
    const revsBefore = new Map((await w.store.loadCase('c1')).map((cc) => [cc.cert.sha256, cc.rev]));
    const run = await w.check();
    // Every settled certificate was asked (its daily re-ask came round), over both sources.
    expect(run).toMatchObject({ certificates: total, ocspRequests: total, changes: [], observationsWritten: 0 });
    const sources = 2;
    const bound = pending + sources + Math.ceil(total / 100);
    console.log(
      `settled pool: unchanged daily re-check of ${total} certificates (${total - pending} settled, ${pending} pending, ${sources} sources): ${run.itemsWritten} items written (the source states and the run record); bound ${bound}`,
    );
    expect(run.itemsWritten).toBeLessThanOrEqual(bound);
    // Nothing per certificate: every record is as it was.
    for (const cc of await w.store.loadCase('c1')) expect(cc.rev).toBe(revsBefore.get(cc.cert.sha256));
    // The evidence is complete: every record still rebuilds from the observations.
    expect((await verifyEvidence(w.store)).differences).toEqual([]);
    // The source states carry the settled heartbeat: the round confirmed them at its start.
    const states = await w.store.getSourceStates();
    expect([...states.values()].map((s) => s.settledConfirmedAt)).toEqual([T0 + DAY + 3 * HOUR, T0 + DAY + 3 * HOUR]);

    // `status` shows when each source last confirmed a settled certificate: the round, from the heartbeat.
    const status = await buildStatus(w.store, w.clock.now().getTime(), 'c1');
    const settledOne = status.cases[0]!.certificates.find((c) => c.serial === w.certs[names[0]!]!.serial)!;
    expect(settledOne.sources.map((s) => s.confirmedAt)).toEqual([iso(T0 + DAY + 3 * HOUR), iso(T0 + DAY + 3 * HOUR)]);
    expect(settledOne.sources.every((s) => Date.parse(s.checkedAt) < T0 + 3 * HOUR)).toBe(true);
    const pendingOne = status.cases[0]!.certificates.find((c) => c.serial === w.certs[names[total - 1]!]!.serial)!;
    expect(pendingOne.sources.map((s) => s.confirmedAt)).toEqual([undefined, undefined]);

    // Within the day nothing settled is asked again; a day later it is, and again nothing is written for it.
    w.clock.set(T0 + DAY + 20 * HOUR);
    expect(await w.check()).toMatchObject({ certificates: pending, changes: [] });
    w.clock.set(T0 + 2 * DAY + 3 * HOUR + MINUTE);
    const nextRound = await w.check();
    expect(nextRound).toMatchObject({ certificates: total, changes: [] });
    // The pending ones' daily heartbeat (two answers and a record each), the two sources and the run record.
    expect(nextRound.itemsWritten).toBe(pending * 3 + sources + 1);
    expect(names).toHaveLength(total);
  });

  it('catches a settled certificate whose CRL later drops it, and one whose responder changes its answer', async () => {
    const { w, names } = await settledWorld(4, 3);
    const [dropped, reversed, steady] = names.map((n) => w.certs[n]!);
    // One unchanged round first: the certificates are then confirmed by their sources' heartbeat alone.
    const quiet = await w.check();
    expect(quiet).toMatchObject({ certificates: 4, changes: [], observationsWritten: 0 });

    w.clock.set(T0 + DAY + 5 * HOUR);
    w.fetcher.crlOmits.add(dropped!.serial);
    w.fetcher.reissueCrl();
    w.fetcher.unrevoke(reversed!.serial);
    // Not yet a day since the round: the settled ones are not asked, so the change waits for their next round.
    expect(await w.check()).toMatchObject({ certificates: 1, changes: [] });

    w.clock.set(T0 + 2 * DAY + 3 * HOUR);
    const caught = await w.check();
    expect(caught.certificates).toBe(4);
    const changes = caught.changes.map((c) => `${c.serial} ${c.source.split(' ')[0]} ${c.from.split('@')[0]} -> ${c.to}`).sort();
    expect(changes).toEqual(
      [
        `${dropped!.serial} crl revoked -> good`,
        `${reversed!.serial} crl revoked -> good`,
        `${reversed!.serial} ocsp revoked -> good`,
      ].sort(),
    );
    // The records hold the new answers, and the verdict quoted against the CA names the reversal (BR 4.10.1).
    const byCert = new Map((await w.store.loadCase('c1')).map((cc) => [cc.cert.serial, cc]));
    for (const cert of [dropped!, reversed!]) {
      const cc = byCert.get(cert.serial)!;
      const answers = recordObservations(cc.record);
      expect(answers.some((o) => o.source.kind === 'crl' && o.status === 'good' && o.observedAt >= T0 + 2 * DAY)).toBe(true);
      const judged = judge(w.kase, cc.cert, answers, w.clock.now().getTime());
      expect(judged.findings.map((f) => f.code)).toContain('revocation_reversed');
    }
    expect(byCert.get(steady!.serial)!.rev).toBe(2);
    expect((await verifyEvidence(w.store)).differences).toEqual([]);
  });

  it('does not advance the heartbeat over an error: a source that failed its round is asked again a day after its error', async () => {
    const { w } = await settledWorld(3, 2);
    const ocspKey = `ocsp ${w.fetcher.ocspUrl}`;
    w.fetcher.down.add(w.fetcher.ocspUrl);
    const failing = await w.check();
    expect(failing.certificates).toBe(3);
    // An error is a changed answer: written, as before.
    expect(failing.changes.filter((c) => c.to.startsWith('error')).length).toBe(3);
    expect((await w.store.getSourceStates()).get(ocspKey)!.settledConfirmedAt).toBe(T0 + 2 * HOUR);
    w.fetcher.down.delete(w.fetcher.ocspUrl);
    w.clock.set(T0 + 2 * DAY + 4 * HOUR);
    const retry = await w.check();
    expect(retry.ocspRequests).toBe(3);
    expect(retry.changes.filter((c) => c.source === ocspKey && c.to.startsWith('revoked')).length).toBe(2);
    expect((await w.store.getSourceStates()).get(ocspKey)!.settledConfirmedAt).toBe(T0 + 2 * DAY + 4 * HOUR);
    expect((await verifyEvidence(w.store)).differences).toEqual([]);
  });

  it('a one-case check asks its settled certificates when due but does not advance the sources heartbeat', async () => {
    const { w } = await settledWorld(3, 2);
    const before = await w.store.getSourceStates();
    const one = await w.check({ caseId: 'c1' });
    expect(one).toMatchObject({ certificates: 3, changes: [], observationsWritten: 0 });
    const after = await w.store.getSourceStates();
    for (const [key, s] of after) expect(s.settledConfirmedAt).toBe(before.get(key)!.settledConfirmedAt);
    // The next full run asks them again and advances the heartbeat.
    w.clock.advance(HOUR);
    expect(await w.check()).toMatchObject({ certificates: 3, changes: [] });
    for (const s of (await w.store.getSourceStates()).values()) expect(s.settledConfirmedAt).toBeGreaterThanOrEqual(T0 + DAY + 4 * HOUR);
  });

  it('reads nothing of the settled pool between rounds; prints the item bytes a planning read costs per due certificate', async () => {
    const total = 60;
    const pending = 6;
    const { w } = await settledWorld(total, total - pending);
    // Item data read through the polling index, counted as DynamoDB sizes items: attribute names and values.
    const table = (w.store as unknown as { table: Table }).table;
    const query = table.queryPages.bind(table);
    let items = 0;
    let bytes = 0;
    table.queryPages = (q, what, onPage) =>
      query(q, what, (page) => {
        if (q.index)
          for (const item of page) {
            items++;
            bytes += itemBytes(item);
          }
        return onPage(page);
      });
    const round = await w.check();
    expect(round.certificates).toBe(total);
    expect(items).toBe(total);
    console.log(
      `polling read, settled round: ${items} index items, ${bytes} bytes, ${Math.round(bytes / items)} bytes per certificate read`,
    );
    items = 0;
    bytes = 0;
    w.clock.advance(HOUR);
    const unchanged = await w.check();
    expect(unchanged).toMatchObject({ certificates: pending, changes: [] });
    // Between rounds the planner reads the pending certificates only.
    expect(items).toBe(pending);
    console.log(
      `polling read, unchanged re-check between rounds: ${items} index items for ${unchanged.certificates} due certificates, ${bytes} bytes, ${Math.round(bytes / unchanged.certificates)} bytes per due certificate (whole items: the index projects every attribute)`,
    );
  });
});

/** An item's size as DynamoDB counts it, near enough: each attribute's name and value. */
function itemBytes(item: Record<string, unknown>): number {
  let n = 0;
  for (const [name, value] of Object.entries(item)) {
    n += Buffer.byteLength(name);
    if (typeof value === 'string') n += Buffer.byteLength(value);
    else if (typeof value === 'number') n += Math.ceil(String(value).length / 2) + 1;
    else if (value instanceof Uint8Array) n += value.length;
    else n += Buffer.byteLength(JSON.stringify(value) ?? '');
  }
  return n;
}
