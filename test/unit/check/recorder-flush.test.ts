/**
 * A flush of the observation recorder writes records only from observations already stored: answers that arrive
 * while it waits on the store go into the next flush, observations first. A record naming an answer whose
 * observation was never stored is what a run killed between the two flushes would otherwise leave behind.
 */
import { describe, expect, it } from 'vitest';
import { planCheck } from '../../../src/check/plan.js';
import { IssuerCache, ObservationRecorder, OcspAsker } from '../../../src/check/execute.js';
import { SystemClock } from '../../../src/adapters/system-clock.js';
import { recordObservations } from '../../../src/rules/evidence.js';
import type { StoredObservation } from '../../../src/ports/store.js';
import { makeWorld } from './world.js';

describe('ObservationRecorder.flush', () => {
  it('folds into the records only the answers whose observations it stored, and the rest at the next flush', async () => {
    const w = await makeWorld([
      { name: 'first', crl: false },
      { name: 'second', crl: false },
    ]);
    const plan = await planCheck(w.store, w.clock.now().getTime());
    const [first, second] = ['first', 'second'].map((name) => plan.ocspJobs.find((j) => j.certificate.sha256 === w.certs[name]!.sha256)!);

    // The store holds the first observation write until the test lets it go.
    const stored: StoredObservation[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let writes = 0;
    const store = new Proxy(w.store, {
      get(target, name, receiver) {
        if (name === 'recordObservations')
          return async (batch: readonly StoredObservation[]) => {
            if (writes++ === 0) await held;
            const n = await target.recordObservations(batch);
            stored.push(...batch);
            return n;
          };
        const value = Reflect.get(target, name, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const recorder = new ObservationRecorder(store, w.clock, { soleWriter: true });
    const ask = async (job: typeof first): Promise<void> => {
      const asker = new OcspAsker({ store, fetcher: w.fetcher, clock: new SystemClock() }, new IssuerCache(store), recorder, {
        ocspPerHost: 1,
        ocspMinIntervalMs: 0,
      });
      asker.add([job!]);
      await asker.finish();
    };

    await ask(first);
    const flushed = recorder.flush(); // waits on the held write
    await ask(second); // answered while the flush waits
    release();
    await flushed;

    const recordedOf = async (name: string): Promise<string[]> => {
      const [item] = (await w.store.loadCase(w.kase.id)).filter((cc) => cc.cert.sha256 === w.certs[name]!.sha256);
      return recordObservations(item!.record).map((o) => `${o.sha256} ${o.observedAt}`);
    };
    const storedKeys = (): string[] => stored.map((o) => `${o.sha256} ${o.observedAt}`);
    expect(await recordedOf('first')).toHaveLength(1);
    // The second answer's observation is not stored yet, so no record names it.
    expect(await recordedOf('second')).toEqual([]);
    for (const name of ['first', 'second']) for (const o of await recordedOf(name)) expect(storedKeys()).toContain(o);

    await recorder.flush();
    expect(await recordedOf('second')).toHaveLength(1);
    for (const o of await recordedOf('second')) expect(storedKeys()).toContain(o);
  });
});
