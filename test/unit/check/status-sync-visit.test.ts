/**
 * status judges a certificate as its page hands it over, without a promise, once what it needs (its CRLs'
 * snapshots, the settled sources' states) has been read for an earlier one: an async visit cost every certificate
 * of a case several microtask turns. The verdicts are those of a visit that awaits each certificate in turn.
 */
import { describe, expect, it } from 'vitest';
import { buildStatus } from '../../../src/status/status.js';
import type { CaseCertificate } from '../../../src/ports/store.js';
import type { DisclosureLookup } from '../../../src/ports/disclosures.js';
import { makeWorld } from './world.js';

describe('status visit', () => {
  it('awaits only the certificates that need a read first, and judges the others as one awaiting every one would', async () => {
    const w = await makeWorld([
      { name: 'a', serial: '0a01' },
      { name: 'b', serial: '0a02' },
      { name: 'c', serial: '0a03' },
      { name: 'd', serial: '0a04' },
    ]);
    await w.check();
    const now = w.clock.now().getTime();
    const visit = w.store.visitCase.bind(w.store);
    let promises = 0;
    let visited = 0;
    w.store.visitCase = (caseId, fn) =>
      visit(caseId, (cc) => {
        visited++;
        const wait = fn(cc);
        if (wait) promises++;
        return wait;
      });
    const judged = await buildStatus(w.store, now);
    expect(visited).toBe(4);
    // The certificates share one CRL: only the first waits for its snapshots to be read.
    expect(promises).toBe(1);
    // The same verdicts when every certificate is awaited in turn, as an async visitor would be.
    w.store.visitCase = async (caseId, fn) => {
      const all: CaseCertificate[] = [];
      await visit(caseId, (cc) => void all.push(cc));
      for (const cc of all) await Promise.resolve(fn(cc));
    };
    expect(await buildStatus(w.store, now)).toEqual(judged);
  });

  it('makes no certificate wait on CCADB disclosures that were never imported', async () => {
    const w = await makeWorld([
      { name: 'a', serial: '0b01' },
      { name: 'b', serial: '0b02' },
      { name: 'c', serial: '0b03' },
    ]);
    await w.check();
    const now = w.clock.now().getTime();
    const neverImported: DisclosureLookup = {
      byKeyId: async () => [],
      bySubjectName: async () => [],
      lastImport: async () => null,
    };
    const visit = w.store.visitCase.bind(w.store);
    let promises = 0;
    w.store.visitCase = (caseId, fn) =>
      visit(caseId, (cc) => {
        const wait = fn(cc);
        if (wait) promises++;
        return wait;
      });
    const judged = await buildStatus(w.store, now, undefined, { disclosures: neverImported });
    expect(promises).toBe(1);
    expect(judged).toEqual(await buildStatus(w.store, now));
  });
});
