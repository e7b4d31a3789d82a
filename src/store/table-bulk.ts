/**
 * Adding a large number of certificates to one case, handed over in slices (Store.addCertificatesInSlices):
 * `track --appendix` over a CA's incident appendix of 80,000 rows and more. Store.addCertificates reads the
 * case's tracked ids on every call, so writing such a case a slice at a time read them again and again
 * (10,000 + 20,000 + ... + 70,000 items for 80,000 rows, a third of the store's work), and one call with
 * everything held every row, every certificate and every item at once. Here the ids are read once, each
 * slice is written while the caller makes the next one, and only the ids stay behind.
 *
 * Nothing is written twice and nothing is lost when a run stops part way: a certificate the case has is left
 * alone, so running the same input again writes the rest. Each slice is counted (the case's `certCount`) once
 * its items are written; a run that stopped between the two left the count short by at most that slice, and
 * the next run sets it right from the ids it reads (only ever upwards, and only from the count it read, so two
 * repairs cannot both apply).
 */
import { EMPTY_RECORD, type EvidenceRecord } from '../rules/evidence.js';
import { StoreError, type StoredCertificate } from '../ports/store.js';
import { PRESENT, queryAll, type Table } from '../ports/table.js';
import {
  CASES,
  CERT_PREFIX,
  caseCertificateKey,
  caseIdOf,
  caseKey,
  casePartition,
  certificateItem,
  certificateShaOf,
  toCaseCertificate,
  toCase,
} from './layout.js';

export async function addCertificatesInSlices(
  table: Table,
  caseId: string,
  slices: AsyncIterable<readonly StoredCertificate[]>,
  alreadyTracked?: (certs: readonly StoredCertificate[]) => Promise<void>,
): Promise<number> {
  const kase = await table.get(caseKey(caseId), `case ${caseId}`);
  if (!kase) throw new StoreError(`adding certificates to case ${caseId} in ${table.label} failed: no such case`);
  const tracked = new Set(
    (
      await queryAll(table, { pk: casePartition(caseId), prefix: CERT_PREFIX, projection: ['sk'] }, `the certificate ids of case ${caseId}`)
    ).map((i) => certificateShaOf(i.sk)),
  );
  await repairCount(table, caseId, kase.certCount, tracked.size);
  const otherCases = (await queryAll(table, { pk: CASES, projection: ['sk'] }, 'the case ids'))
    .map((i) => caseIdOf(i.sk))
    .filter((id) => id !== caseId);

  const write = async (slice: readonly StoredCertificate[]): Promise<number> => {
    const fresh = new Map<string, StoredCertificate>();
    const had: StoredCertificate[] = [];
    for (const c of slice) {
      if (c.caseId !== caseId) throw new StoreError(`certificate ${c.sha256} of case ${c.caseId} was handed to case ${caseId}`);
      if (tracked.has(c.sha256)) had.push(c);
      else {
        tracked.add(c.sha256);
        fresh.set(c.sha256, c);
      }
    }
    if (had.length && alreadyTracked) await alreadyTracked(had);
    if (fresh.size === 0) return 0;
    // A certificate another case already watches has observations: its record starts from theirs.
    const known = await recordsElsewhere(table, otherCases, [...fresh.keys()]);
    await table.batchPut(
      [...fresh.values()].map((c) => certificateItem(c, known.get(c.sha256) ?? EMPTY_RECORD, 0, 0, false, toCase(kase))),
      `certificates of case ${caseId}`,
    );
    const counted = await table.updateIf(
      caseKey(caseId),
      { add: { certCount: fresh.size } },
      PRESENT,
      `the certificate count of case ${caseId}`,
    );
    if (counted === null) throw new StoreError(`counting the certificates of case ${caseId} in ${table.label} failed: no such case`);
    return fresh.size;
  };

  const iterator = slices[Symbol.asyncIterator]();
  let added = 0;
  let next = iterator.next();
  for (;;) {
    const r = await next;
    if (r.done) break;
    const writing = write(r.value);
    // The caller makes the next slice (on this thread) while this one is written (by the store).
    next = iterator.next();
    next.catch(() => undefined); // awaited in turn, or below after a failed write
    try {
      added += await writing;
    } catch (err) {
      await next.catch(() => undefined);
      await iterator.return?.(undefined);
      throw err;
    }
  }
  return added;
}

/** Sets a count left short by a run that stopped between writing a slice and counting it; never lowers one. */
async function repairCount(table: Table, caseId: string, stored: unknown, present: number): Promise<void> {
  const counted = stored === undefined || stored === null ? null : Number(stored);
  if ((counted ?? 0) >= present) return;
  await table.updateIf(
    caseKey(caseId),
    { set: { certCount: present } },
    counted === null ? { attr: 'certCount', absent: true } : { attr: 'certCount', eq: counted },
    `the certificate count of case ${caseId}`,
  );
}

async function recordsElsewhere(table: Table, caseIds: readonly string[], shas: readonly string[]): Promise<Map<string, EvidenceRecord>> {
  const out = new Map<string, EvidenceRecord>();
  for (const caseId of caseIds) {
    const wanted = shas.filter((s) => !out.has(s));
    if (wanted.length === 0) break;
    const items = await table.batchGet(
      wanted.map((sha256) => caseCertificateKey(caseId, sha256)),
      'evidence records',
    );
    for (const item of items) {
      const cc = toCaseCertificate(item);
      if (!cc.legacy) out.set(cc.cert.sha256, cc.record);
    }
  }
  return out;
}
