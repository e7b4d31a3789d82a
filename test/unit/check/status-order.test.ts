/**
 * status hands verdicts out in serial order, and one serial in two
 * certificates (a precertificate and its certificate) by SHA-256, whatever
 * order the store's pages came in: the DynamoDB adapter reads a case's key
 * ranges side by side.
 */
import { describe, expect, it } from 'vitest';
import { buildStatus } from '../../../src/status/status.js';
import type { CaseCertificate } from '../../../src/ports/store.js';
import { makeWorld } from './world.js';

describe('status order', () => {
  it('is by serial, then SHA-256, however the certificates were visited', async () => {
    const w = await makeWorld([
      { name: 'b', serial: '0e02' },
      { name: 'a1', serial: '0e01' },
      { name: 'a2', serial: '0e01' },
      { name: 'c', serial: '0e0' },
    ]);
    await w.check();
    const now = w.clock.now().getTime();
    const inStoreOrder = (await buildStatus(w.store, now)).cases[0]!.certificates.map((s) => `${s.serial} ${s.sha256}`);
    const visit = w.store.visitCase.bind(w.store);
    w.store.visitCase = async (caseId, fn) => {
      const all: CaseCertificate[] = [];
      await visit(caseId, (cc) => void all.push(cc));
      for (const cc of all.reverse()) await fn(cc);
    };
    const reversed = (await buildStatus(w.store, now)).cases[0]!.certificates.map((s) => `${s.serial} ${s.sha256}`);
    expect(reversed).toEqual(inStoreOrder);
    const [first, second] = [w.certs.a1!.sha256, w.certs.a2!.sha256].sort();
    // "0e0" is stored as the DER integer reads it, "e0": after the others.
    expect(inStoreOrder).toEqual([
      `0e01 ${first}`,
      `0e01 ${second}`,
      `0e02 ${w.certs.b!.sha256}`,
      `${w.certs.c!.serial} ${w.certs.c!.sha256}`,
    ]);
  });
});
