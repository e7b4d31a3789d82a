/**
 * `report --format json` is written as the verdicts come (report/stream-report.ts): each certificate, with
 * every observation and its raw bytes, is turned into text and let go before the next is read, so a report
 * of millions of certificates holds the running aggregates and the text spool, not the case (issue 29).
 * Proved on reachability (WeakRef after a forced collection), never on RSS or timing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { writeTextReport } from '../../../src/report/stream-report.js';
import { buildCaseReport } from '../../../src/report/case-report.js';
import { REPORT_FORMATS } from '../../../src/report/report-formats.js';
import { memoryTextSpool } from '../../../src/report/stream-report.js';
import type { TableStore } from '../../../src/store/table-store.js';
import { makeWorld } from '../check/world.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collect(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

/**
 * The store, with each certificate's observations read through a copy whose `source` is watched: the report
 * keeps that object in the certificate it builds, so it stays reachable exactly as long as the certificate does.
 */
function watchedStore(store: TableStore) {
  const watched: WeakRef<object>[][] = [];
  const aliveBefore: number[] = [];
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === 'listObservations')
        return async (sha256: string) => {
          await collect();
          // How many sources of the certificates read before this one are still reachable.
          aliveBefore.push(watched.flat().filter((r) => r.deref()).length);
          const listed = await target.listObservations(sha256);
          const copies = listed.map((o) => ({ ...o, source: { ...o.source } }));
          watched.push(copies.map((o) => new WeakRef(o.source)));
          return copies;
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: proxy, watched, aliveBefore, alive: () => watched.flat().filter((r) => r.deref()).length };
}

const json = REPORT_FORMATS.json;
const options = { observations: json.observations, allObservations: json.allObservations, certificateBytes: json.certificateBytes };

describe('report --format json streams', () => {
  it('lets each certificate go once its text is made, and writes what the whole-case renderer writes', { timeout: 120_000 }, async () => {
    const w = await makeWorld(Array.from({ length: 12 }, (_, i) => ({ name: `j${i}` })));
    await w.check();
    const now = w.clock.now().getTime();
    const s = watchedStore(w.store);
    let streamed = '';
    const write = (chunk: string): void => {
      streamed += chunk;
    };
    await writeTextReport('json', s.store, 'c1', now, write, { ...options, openTextSpool: memoryTextSpool });
    expect(s.watched).toHaveLength(12);
    expect(s.watched.every((sources) => sources.length === 2)).toBe(true); // a CRL and an OCSP answer each
    // When each certificate is read, the ones before it are text already: nothing of them is reachable.
    expect(s.aliveBefore).toEqual(new Array(12).fill(0));
    await collect();
    expect(s.alive()).toBe(0);
    const whole = (await json.renderer())(await buildCaseReport(w.store, 'c1', now, options));
    expect(streamed).toBe(whole);
    const parsed = JSON.parse(streamed) as { certificates: { observations: unknown[] }[] };
    expect(parsed.certificates).toHaveLength(12);
  });

  it('the whole-case report, by contrast, holds every certificate until it is rendered', { timeout: 120_000 }, async () => {
    // The control: the watch does see certificates a report keeps.
    const w = await makeWorld(Array.from({ length: 4 }, (_, i) => ({ name: `k${i}` })));
    await w.check();
    const s = watchedStore(w.store);
    const report = await buildCaseReport(s.store, 'c1', w.clock.now().getTime(), options);
    await collect();
    expect(s.alive()).toBe(8);
    expect(report.certificates).toHaveLength(4);
  });
});
