/**
 * The local index's writes off the event loop (issue 27's first sweep): the
 * WriteQueue keeps each key's writes in order and a failed write's error; the
 * index written behind its commits and flushed leaves the same files as one
 * that waits at every commit; a sweep cut short (some writes landed, some not)
 * and run again folds to the same records; and `lookup`'s streamed JSON is the
 * same text as the answers stringified, and valid against its schema.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { WriteQueue } from '../../../src/adapters/local/durable-files.js';
import { RevocationIndexFiles } from '../../../src/adapters/local/revocation-index-files.js';
import { StoreUnavailableError } from '../../../src/errors.js';
import { emptySweepState, type SnapshotRef, type SweepState } from '../../../src/ports/revocation-index.js';
import type { CrlEntry } from '../../../src/sweep/crl-entries.js';
import { lookupSerials, prepareLookup, type LookupQuery } from '../../../src/sweep/lookup.js';
import { indexSnapshot, type SnapshotChange } from '../../../src/sweep/revocation-index.js';

const T0 = Date.UTC(2026, 0, 1);
const ISSUERS = ['0a'.repeat(32), '0b'.repeat(32)];
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const home = (name: string): string => mkdtempSync(join(tmpdir(), `revwatch-${name}-`));

/** Serials of URL u at version v: v adds 40 and drops the first 3 of v-1, some claims change. */
const serialOf = (u: number, k: number): string =>
  ((((u + 1) * 2654435761) ^ (k * 40503)) >>> 0).toString(16).padStart(8, '0') + k.toString(16).padStart(4, '0');
function entriesOf(u: number, v: number): CrlEntry[] {
  const out: CrlEntry[] = [];
  for (let k = 3 * (v - 1); k < 400 + 40 * (v - 1); k++) {
    const serial = serialOf(u, k);
    out.push({ serial, revocationDate: T0 + k * 1000, reasonCode: v > 1 && k % 50 === 0 ? 4 : k % 2 ? 1 : null });
  }
  return out.sort((a, b) => (a.serial < b.serial ? -1 : 1));
}

/** Sweep `sweep` of six URLs (three per issuer, two of them a partitioned set's shards): each URL's change. */
function sweepChanges(sweep: number): SnapshotChange[] {
  return Array.from({ length: 6 }, (_, u) => {
    const url = `http://crl${u % 2}.example/${u}.crl`;
    const snapshot: SnapshotRef = {
      url,
      sweep,
      at: T0 + sweep * 3_600_000,
      sha256: `${u}-${sweep}`.padEnd(64, '0'),
      thisUpdate: T0 + sweep * 3_600_000 - 60_000,
      nextUpdate: null,
      crlNumber: String(sweep),
      entries: entriesOf(u, sweep).length,
    };
    return {
      url,
      issuerKey: ISSUERS[u % 2]!,
      snapshot,
      previousRead: sweep === 1 ? null : sweep - 1,
      previous: sweep === 1 ? null : { sha256: `${u}-${sweep - 1}`.padEnd(64, '0'), entries: entriesOf(u, sweep - 1) },
      entries: entriesOf(u, sweep),
    };
  });
}

/** Every record of every serial any sweep listed, and every URL's segments and snapshots, from a fresh instance. */
async function everything(dir: string, sweeps: number): Promise<unknown> {
  const index = new RevocationIndexFiles(dir);
  const serials = [
    ...new Set(
      Array.from({ length: 6 }, (_, u) => entriesOf(u, sweeps).concat(entriesOf(u, 1)))
        .flat()
        .map((e) => e.serial),
    ),
  ];
  const out: Record<string, unknown> = {};
  for (const issuer of ISSUERS) out[issuer] = Object.fromEntries([...(await index.records(issuer, serials))].sort());
  for (const c of sweepChanges(1)) {
    out[`${c.url} segments`] = (await index.segments(c.url)).map((s) => ({ ...s }));
    out[`${c.url} snapshots`] = await index.snapshots(c.url);
  }
  return out;
}

/** The sweep's order: every URL's change at once, each issuer's folds one at a time (sweep.ts's issuer lock). */
async function runSweep(index: RevocationIndexFiles, changes: readonly SnapshotChange[]): Promise<void> {
  const byIssuer = new Map<string, SnapshotChange[]>();
  for (const c of changes) byIssuer.set(c.issuerKey, [...(byIssuer.get(c.issuerKey) ?? []), c]);
  await Promise.all(
    [...byIssuer.values()].map(async (list) => {
      for (const c of list) await indexSnapshot(index, c);
    }),
  );
}

describe('WriteQueue', () => {
  it('runs each key’s writes in the order queued, keys side by side', async () => {
    const queue = new WriteQueue();
    const done: string[] = [];
    // a's first write finishes only once b's last has: were the keys one chain, this would never end.
    let bFinished!: () => void;
    const bDone = new Promise<void>((resolve) => {
      bFinished = resolve;
    });
    for (const [i, ms] of [30, 1, 15, 0].entries()) {
      queue.enqueue('a', `a${i}`, async () => {
        if (i === 0) await bDone;
        await pause(ms);
        done.push(`a${i}`);
      });
      queue.enqueue('b', `b${i}`, async () => {
        await pause(ms / 3);
        done.push(`b${i}`);
        if (i === 3) bFinished();
      });
    }
    await queue.flush();
    expect(done.filter((d) => d.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(done.filter((d) => d.startsWith('b'))).toEqual(['b0', 'b1', 'b2', 'b3']);
    // Side by side: b's writes did not wait for a's slow first one.
    expect(done.indexOf('b3')).toBeLessThan(done.indexOf('a0'));
  });

  it('keeps a failed write’s error for flush, attempts nothing after it under its key, and goes on with other keys', async () => {
    const queue = new WriteQueue();
    const done: string[] = [];
    queue.enqueue('a', 'a0', async () => void done.push('a0'));
    queue.enqueue('a', '/x/a1.delta', async () => {
      throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
    });
    queue.enqueue('a', 'a2', async () => void done.push('a2'));
    queue.enqueue('b', 'b0', async () => {
      await pause(5);
      done.push('b0');
    });
    const flushed = await queue.flush().then(
      () => null,
      (err: unknown) => err,
    );
    expect(flushed).toBeInstanceOf(StoreUnavailableError);
    expect((flushed as Error).message).toMatch(/^cannot write \/x\/a1\.delta: /);
    expect(queue.failure('a')).toBe(flushed);
    expect(queue.failure('b')).toBeNull();
    expect(done).toEqual(['a0', 'b0']);
    // Asked again, the same error: it is not lost once reported.
    await expect(queue.flush()).rejects.toBe(flushed);
  });
});

describe('the local index written behind its commits', () => {
  it('leaves the same files as an index that waits at every commit, and keeps the order of each issuer’s updates', async () => {
    const waiting = home('index-waiting');
    const behind = home('index-behind');
    const a = new RevocationIndexFiles(waiting);
    const b = new RevocationIndexFiles(behind, { writeBehind: true });
    for (let sweep = 1; sweep <= 3; sweep++) {
      for (const c of sweepChanges(sweep)) await indexSnapshot(a, c);
      await runSweep(b, sweepChanges(sweep));
      await b.flush();
    }
    expect(await everything(behind, 3)).toEqual(await everything(waiting, 3));
    // The delta and sorted files of each issuer hold the same lines (a merge may fall at another commit).
    const lines = (dir: string, issuer: string): string[] =>
      ['idx', 'delta']
        .flatMap((ext) => {
          try {
            return readFileSync(join(dir, 'sweep', 'index', `${issuer}.${ext}`), 'utf8').split('\n');
          } catch {
            return [];
          }
        })
        .filter(Boolean)
        .sort();
    for (const issuer of ISSUERS) expect(lines(behind, issuer)).toEqual(lines(waiting, issuer));
    // A .keys that matches its .idx was written once, by flush.
    expect(readdirSync(join(behind, 'sweep', 'index')).filter((f) => f.endsWith('.keys'))).toHaveLength(
      readdirSync(join(behind, 'sweep', 'index')).filter((f) => f.endsWith('.idx')).length,
    );
  });

  it('a sweep cut short with writes in flight, then run again, gives the same index as one never cut short', async () => {
    const whole = home('index-whole');
    const cut = home('index-cut');
    const never = new RevocationIndexFiles(whole, { writeBehind: true });
    const first = new RevocationIndexFiles(cut, { writeBehind: true });
    for (const index of [never, first]) {
      await runSweep(index, sweepChanges(1));
      await index.flush();
    }
    await runSweep(never, sweepChanges(2));
    await never.flush();

    // Sweep 2 on the other home: its commits made, its writes queued; the process "dies" part way through them.
    const interrupted = home('index-interrupted');
    const writing = runSweep(first, sweepChanges(2));
    await pause(3);
    cpSync(cut, interrupted, { recursive: true });
    await writing;
    await first.flush();
    // The state was never saved, so the re-run is sweep 2 again, diffed against sweep 1's snapshots.
    const rerun = new RevocationIndexFiles(interrupted, { writeBehind: true });
    await runSweep(rerun, sweepChanges(2));
    await rerun.flush();
    const records = async (dir: string): Promise<unknown> => {
      const all = (await everything(dir, 2)) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(all).filter(([k]) => !k.endsWith(' segments')));
    };
    expect(await records(interrupted)).toEqual(await records(whole));
    // A replayed segment may be logged twice; the last one logged for each sweep is the same.
    for (const c of sweepChanges(2)) {
      const again = await new RevocationIndexFiles(interrupted).segments(c.url);
      expect(again.at(-1)).toEqual((await new RevocationIndexFiles(whole).segments(c.url)).at(-1));
    }
  });

  it('a write that fails is reported by the next commit of its issuer and by flush, and the sweep does not go on as if written', async () => {
    const dir = home('index-fails');
    const index = new RevocationIndexFiles(dir, { writeBehind: true });
    // The URL logs' directory cannot be made: a plain file stands where it goes. The segment's write fails,
    // and the issuer's records, queued after it, are not written without it.
    mkdirSync(join(dir, 'sweep'), { recursive: true });
    writeFileSync(join(dir, 'sweep', 'urls'), 'not a directory');
    const [c0, , c2] = sweepChanges(1);
    await indexSnapshot(index, c0!);
    const failure = await index.flush().then(
      () => null,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(StoreUnavailableError);
    expect((failure as Error).message).toMatch(/^cannot write .*sweep\/urls\/[0-9a-f]{16}\.(changes|snapshots): /);
    expect(readdirSync(join(dir, 'sweep'))).toEqual(['urls']);
    await expect(indexSnapshot(index, c2!)).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('lookup over the local index', () => {
  it('streams each answer as the same JSON text as the answer stringified, the document valid against its schema', async () => {
    const dir = home('lookup-stream');
    const index = new RevocationIndexFiles(dir, { writeBehind: true });
    for (let sweep = 1; sweep <= 2; sweep++) {
      await runSweep(index, sweepChanges(sweep));
      await index.flush();
    }
    const state: SweepState = {
      ...emptySweepState(),
      sweeps: [
        { sweep: 1, startedAt: T0 + 3_600_000, finishedAt: T0 + 3_700_000, urls: 6, changed: 6, unchanged: 0, faults: 0 },
        { sweep: 2, startedAt: T0 + 7_200_000, finishedAt: T0 + 7_300_000, urls: 6, changed: 6, unchanged: 0, faults: 0 },
      ],
      issuers: {
        [ISSUERS[0]!]: {
          issuerKey: ISSUERS[0]!,
          subjectKeyId: 'ab12',
          caSha256: ['cd'.repeat(32)],
          name: 'A "quoted" CA',
          owner: 'Owner A',
        },
      },
    };
    const queries: LookupQuery[] = [...entriesOf(0, 1).slice(0, 5), ...entriesOf(1, 2).slice(-5), { serial: 'ffffffff' }].map((e) => ({
      input: e.serial,
      serial: e.serial,
      issuerKeys: null,
    }));
    queries.push({ input: 'by-issuer.pem', serial: entriesOf(2, 2)[7]!.serial, issuerKeys: [ISSUERS[0]!] });
    const fresh = new RevocationIndexFiles(dir);
    const prepared = await prepareLookup(fresh, state, queries);
    const answers = [...prepared.answers()];
    expect([...prepared.answersJson()]).toEqual(answers.map((a) => JSON.stringify(a)));
    expect(answers).toEqual(await lookupSerials(new RevocationIndexFiles(dir), state, queries));
    expect(answers.filter((a) => a.known)).toHaveLength(queries.length - 1);
    const dropped = serialOf(0, 0);
    expect([...(await prepareLookup(fresh, state, [{ input: dropped, serial: dropped, issuerKeys: null }])).answers()]).toEqual([
      expect.objectContaining({ listed: false, known: true }),
    ]);

    const ajv = new Ajv2020({ strict: true, allErrors: true });
    for (const name of ['common', 'lookup'])
      ajv.addSchema(JSON.parse(readFileSync(join('docs', 'schemas', `${name}.schema.json`), 'utf8')) as object);
    const validate = ajv.getSchema('https://revwatch.example/schemas/lookup.schema.json')!;
    const document = `[\n${[...prepared.answersJson()].join(',\n')}\n]\n`;
    expect(validate(JSON.parse(document)), JSON.stringify(validate.errors)).toBe(true);
  });
});
