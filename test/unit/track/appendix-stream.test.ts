/**
 * `track --appendix` writes as it reads (Store.addCertificatesInSlices): the case's tracked ids are read once,
 * however many slices; a run that stops part way leaves a state the same appendix finishes, with nothing
 * written twice and the case's count right.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Case } from '../../../src/domain.js';
import { FakeClock } from '../../../src/adapters/system-clock.js';
import { memoryStore } from '../../../src/adapters/memory/memory-table.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { EMPTY_RECORD } from '../../../src/rules/evidence.js';
import { certificateItem } from '../../../src/store/layout.js';
import type { StoredCertificate } from '../../../src/ports/store.js';
import { APPENDIX_WRITE_SLICE, type AppendixRow, type BadRow, trackAppendix } from '../../../src/track/appendix.js';

const T0 = Date.parse('2026-06-01T00:00:00Z');
const DAY = 86_400_000;
const kase: Case = { id: 'incident', title: 'incident', reportedAt: T0 - DAY, reason: 'key-compromise', kind: 'tls-subscriber' };

let ca: LocalCa;
beforeAll(async () => {
  ca = await LocalCa.create({ name: 'Appendix Stream CA', keyType: 'ec-p256', notBefore: T0 - 400 * DAY, notAfter: T0 + 400 * DAY });
});

/** `n` rows of one issuer, every tenth repeating the row before it, and one bad row. */
function rows(n: number): (AppendixRow | BadRow)[] {
  const out: (AppendixRow | BadRow)[] = [];
  for (let i = 0; i < n; i++) {
    const serial = (i % 10 === 9 ? i - 1 : i).toString(16).padStart(8, '0');
    out.push({
      line: i + 2,
      precertificateSha256: null,
      certificateSha256: null,
      subject: `CN=leaf-${i}.example`,
      issuer: ca.info.subject,
      notBefore: T0 - 10 * DAY,
      notAfter: T0 + 80 * DAY,
      serial,
      dnsNames: [`leaf-${i}.example`],
    });
  }
  out.splice(7, 0, { line: 9, why: 'Serial # "zz" is not a hexadecimal serial number' });
  return out;
}

const run = (store: ReturnType<typeof memoryStore>, input: AsyncIterable<AppendixRow | BadRow> | Iterable<AppendixRow | BadRow>) =>
  trackAppendix({ store, clock: new FakeClock(T0), disclosures: null }, kase, input, {
    given: [ca.info],
    sources: { crlUrls: ['http://127.0.0.1:1/full.crl'] },
    source: 'appendix.csv',
  });

describe('track --appendix, a slice at a time', () => {
  it('a run stopped part way is finished by the same appendix: nothing twice, the count right', async () => {
    const store = memoryStore();
    const all = rows(3 * APPENDIX_WRITE_SLICE + 500);
    const unique = new Set(all.flatMap((r) => ('serial' in r ? [r.serial] : []))).size;
    async function* stopsPartWay(): AsyncGenerator<AppendixRow | BadRow> {
      for (const [i, r] of all.entries()) {
        if (i === Math.floor(1.5 * APPENDIX_WRITE_SLICE * 1.2)) throw new Error('the disk went away');
        yield r;
      }
    }
    await expect(run(store, stopsPartWay())).rejects.toThrow('the disk went away');
    const partial = (await store.loadCase(kase.id)).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(unique);
    expect((await store.certificateCounts()).get(kase.id)).toBe(partial);

    const again = await run(store, all);
    expect(again).toMatchObject({ added: unique - partial, alreadyTracked: partial, duplicates: all.length - 1 - unique });
    expect(again.skipped).toEqual([{ line: 9, why: 'Serial # "zz" is not a hexadecimal serial number' }]);
    const tracked = await store.loadCase(kase.id);
    expect(tracked).toHaveLength(unique);
    expect(new Set(tracked.map((cc) => cc.cert.serial)).size).toBe(unique);
    expect((await store.certificateCounts()).get(kase.id)).toBe(unique);
    expect(await store.getCertificateDer(ca.info.sha256)).not.toBeNull();
  });

  it('writes nothing, not even the case, when no row can be tracked', async () => {
    const store = memoryStore();
    await expect(run(store, [{ line: 2, why: 'no Issuer' }])).rejects.toThrow(
      /no row of appendix.csv can be tracked \(1 refused; line 2: no Issuer\)/,
    );
    expect(await store.listCases()).toEqual([]);
  });
});

describe('Store.addCertificatesInSlices', () => {
  const cert = (i: number): StoredCertificate => ({
    caseId: kase.id,
    sha256: i.toString(16).padStart(64, '0'),
    serial: i.toString(16).padStart(2, '0'),
    subject: 'CN=leaf.example',
    issuer: 'CN=Test CA',
    notBefore: T0 - 10 * DAY,
    notAfter: T0 + 80 * DAY,
    precertificate: false,
    ocspUrls: [],
    crlUrls: ['http://127.0.0.1:1/ca.crl'],
    issuerSha256: 'f'.repeat(64),
    isCA: false,
    trackedAt: T0,
    crtshId: null,
  });
  async function* slices(...lists: number[][]): AsyncGenerator<StoredCertificate[]> {
    for (const list of lists) yield list.map(cert);
  }

  it('reads the case and its tracked ids once however many slices, and hands over those it had', async () => {
    const store = memoryStore();
    await store.createCase(kase, T0);
    await store.addCertificates([1, 2, 3].map(cert));
    const read = store.itemsRead;
    const had: string[] = [];
    const added = await store.addCertificatesInSlices(kase.id, slices([1, 4, 5], [6, 2, 7], [8, 8, 9], [3]), async (certs) => {
      had.push(...certs.map((c) => c.serial));
    });
    expect(added).toBe(6);
    expect(had).toEqual(['01', '02', '08', '03']);
    // The case, its three ids and the case list: nothing more per slice.
    expect(store.itemsRead - read).toBe(1 + 3 + 1);
    expect((await store.certificateCounts()).get(kase.id)).toBe(9);
  });

  it('sets right a count left short by a run that stopped between writing a slice and counting it', async () => {
    const store = memoryStore();
    await store.createCase(kase, T0);
    await store.addCertificates([1, 2].map(cert));
    // Written, never counted: the stop came between the two.
    await store.table.batchPut(
      [3, 4].map((i) => certificateItem(cert(i), EMPTY_RECORD, 0, 0)),
      'certificates',
    );
    expect((await store.certificateCounts()).get(kase.id)).toBe(2);
    expect(await store.addCertificatesInSlices(kase.id, slices([3, 4, 5]))).toBe(1);
    expect((await store.certificateCounts()).get(kase.id)).toBe(5);
  });

  it('refuses a case that does not exist, and a certificate of another case', async () => {
    const store = memoryStore();
    await expect(store.addCertificatesInSlices('ghost', slices([1]))).rejects.toThrow(/case ghost.*no such case/);
    await store.createCase(kase, T0);
    await expect(
      store.addCertificatesInSlices(
        kase.id,
        (async function* () {
          yield [{ ...cert(1), caseId: 'other' }];
        })(),
      ),
    ).rejects.toThrow(/handed to case incident/);
  });
});
