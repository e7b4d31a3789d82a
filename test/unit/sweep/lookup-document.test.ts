/**
 * `lookup` over the local files as the CLI reads them (RevocationIndexReader): every URL's snapshots in one
 * pass, records whose listings are packed alike sharing one list, delta lines ruled out by their serial's first
 * bytes, and the --json document made in chunks: the same answers, and the same text, as the store's own reads
 * and JSON.stringify give.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RevocationIndexFiles } from '../../../src/adapters/local/revocation-index-files.js';
import { RevocationIndexReader } from '../../../src/adapters/local/revocation-index-reader.js';
import { emptySweepState, type SnapshotRef, type SweepState } from '../../../src/ports/revocation-index.js';
import type { CrlEntry } from '../../../src/sweep/crl-entries.js';
import { prepareLookup, type LookupIndex, type LookupQuery } from '../../../src/sweep/lookup.js';
import { indexSnapshot } from '../../../src/sweep/revocation-index.js';

const ISSUER = 'cd'.repeat(32);
const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;
const URLS = ['http://crl.example/a.crl', 'http://crl.example/"b" é.crl'];
const snap = (url: string, sweep: number, entries: number): SnapshotRef => ({
  url,
  sweep,
  at: T0 + sweep * HOUR,
  sha256: `${sweep}${url.length}`.padEnd(64, 'e'),
  thisUpdate: T0 + sweep * HOUR - 60_000,
  nextUpdate: null,
  crlNumber: String(sweep),
  entries,
});
const entry = (serial: string, i: number): CrlEntry => ({ serial, revocationDate: T0 - i * 1000, reasonCode: i % 3 === 0 ? null : 1 });
const sorted = (serials: string[]): string[] => [...new Set(serials)].sort();

describe('lookup over the local files, as the CLI reads them', () => {
  it('gives the store’s answers, and its JSON document chunk by chunk is the answers stringified', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-lookup-document-'));
    const store = new RevocationIndexFiles(home);
    // Serials of 1 to 20 hex digits: shorter and longer than the bytes a delta line is first filtered on.
    const serials = sorted(
      Array.from({ length: 3000 }, (_, i) =>
        ((i * 2654435761) % 2 ** 32)
          .toString(16)
          .repeat(1 + (i % 3))
          .slice(0, 1 + (i % 20)),
      ),
    );
    const sweeps = [1, 2, 3];
    // Sweep 1 lists the first half on URL a; sweep 2 lists all on a and a few on b (a delta); sweep 3 drops some from a.
    const lists = [serials.slice(0, 1500), serials, serials.slice(200)];
    let previous: { sha256: string; entries: CrlEntry[] } | null = null;
    for (const [k, sweep] of sweeps.entries()) {
      const entries = lists[k]!.map((s, i) => entry(s, i));
      await indexSnapshot(store, {
        url: URLS[0]!,
        issuerKey: ISSUER,
        snapshot: snap(URLS[0]!, sweep, entries.length),
        previousRead: previous ? sweep - 1 : null,
        previous,
        entries,
      });
      previous = { sha256: snap(URLS[0]!, sweep, 0).sha256, entries };
    }
    const onB = sorted([serials[3]!, serials[1700]!, 'f', '0123456789abcdef0123']);
    await indexSnapshot(store, {
      url: URLS[1]!,
      issuerKey: ISSUER,
      snapshot: snap(URLS[1]!, 3, onB.length),
      previousRead: null,
      previous: null,
      entries: onB.map((s, i) => entry(s, i)),
    });

    const state: SweepState = {
      ...emptySweepState(),
      sweeps: sweeps.map((sweep) => ({
        sweep,
        startedAt: T0 + sweep * HOUR - 1000,
        finishedAt: T0 + sweep * HOUR + 1000,
        urls: 2,
        changed: 1,
        unchanged: 1,
        faults: 0,
      })),
      issuers: { [ISSUER]: { issuerKey: ISSUER, subjectKeyId: null, caSha256: ['ef'.repeat(32)], name: 'CA "Ü"', owner: 'O' } },
    };
    const queries: LookupQuery[] = [
      ...serials.filter((_, i) => i % 7 === 0),
      'f',
      '0123456789abcdef0123',
      'abcdefabcdef1',
      serials[3]!,
    ].map((serial) => ({
      input: serial,
      serial,
      issuerKeys: serial === serials[3] ? [ISSUER] : null,
    }));

    // The store asked URL by URL and record by record: what the reader must agree with.
    const plain: LookupIndex = {
      records: (key, asked) => store.records(key, asked),
      issuerKeys: () => store.issuerKeys(),
      snapshots: (url) => store.snapshots(url),
      segments: (url) => store.segments(url),
      commit: async () => {},
      addSnapshot: async () => {},
    };
    const reader = new RevocationIndexReader(home);
    expect(await reader.snapshotsOfMany(URLS)).toEqual(
      new Map([
        [URLS[0]!, await store.snapshots(URLS[0]!)],
        [URLS[1]!, await store.snapshots(URLS[1]!)],
      ]),
    );
    const expected = [...(await prepareLookup(plain, state, queries)).answers()];
    const prepared = await prepareLookup(reader, state, queries);
    expect([...prepared.answers()]).toEqual(expected);
    expect(expected.filter((a) => a.known && !a.listed).length).toBeGreaterThan(0);
    expect(expected.filter((a) => a.issuers[0]?.listings.length === 2).length).toBeGreaterThan(0);

    const document = `[\n${expected.map((a) => JSON.stringify(a)).join(',\n')}\n]\n`;
    for (const chunkChars of [1, 5000, 10_000_000]) {
      const chunks = [...prepared.jsonDocument(chunkChars)];
      expect(chunks.join('')).toBe(document);
      if (chunkChars === 5000) expect(chunks.length).toBeGreaterThan(2);
    }
    expect([...(await prepareLookup(reader, state, [])).jsonDocument(100)].join('')).toBe('[\n]\n');
  });
});
