/**
 * Adding certificates to a case reads what it adds, not the case: an incident tracked a batch at a time
 * (a CA's list grows to millions) must not read every certificate already tracked at each batch.
 */
import { describe, expect, it } from 'vitest';
import type { Case } from '../../../src/domain.js';
import { MemoryTable } from '../../../src/adapters/memory/memory-table.js';
import { TableStore } from '../../../src/store/table-store.js';
import { HOUR, storedCertificate, T0 } from '../../helpers/packed-item-fixtures.js';

const kase: Case = { id: 'incident-9', title: 'Incident 9', reportedAt: T0 - 20 * HOUR, reason: 'key-compromise', kind: 'tls-subscriber' };
const certificate = (i: number) => storedCertificate(kase.id, { sha256: i.toString(16).padStart(64, '0'), serial: i.toString(16) });

describe('adding certificates to a case', () => {
  it('reads about as many items as it is handed, however many the case already holds', async () => {
    const table = new MemoryTable();
    const store = new TableStore(table);
    await store.createCase(kase, T0);
    for (let batch = 0; batch < 20; batch++)
      await store.addCertificates(Array.from({ length: 250 }, (_, i) => certificate(batch * 250 + i)));

    const before = table.itemsRead;
    // Ten new certificates and ten the case holds already.
    const added = await store.addCertificates([
      ...Array.from({ length: 10 }, (_, i) => certificate(10_000 + i)),
      ...Array.from({ length: 10 }, (_, i) => certificate(i)),
    ]);
    expect(added).toBe(10);
    // The ten already held (and the case ids, the case): not the 5,000 certificate keys of the case.
    expect(table.itemsRead - before).toBeLessThan(50);
    expect((await store.certificateCounts()).get(kase.id)).toBe(5_010);
  });

  it('adds a certificate handed twice in one batch once', async () => {
    const store = new TableStore(new MemoryTable());
    await store.createCase(kase, T0);
    expect(await store.addCertificates([certificate(1), certificate(1), certificate(2)])).toBe(2);
    expect(await store.addCertificates([certificate(2), certificate(3)])).toBe(1);
    expect((await store.certificateCounts()).get(kase.id)).toBe(3);
  });
});
