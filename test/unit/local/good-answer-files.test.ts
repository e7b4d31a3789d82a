/**
 * Local mode's good-answer log appends each run's answers to its shard files and rewrites a shard only once it
 * holds several runs' worth: an unchanged re-check does not read and rewrite every shard. Whatever the files
 * hold, each pair answers with its latest good answer, a torn append costs at most its own line, and answers
 * past the keep time go at the rewrite. Answers alike but for their certificate (one CRL read or one 304 for
 * every certificate it covers) share one line, and come back whole.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMPACT_AT_RUNS, LocalGoodAnswerFiles } from '../../../src/adapters/local/good-answer-files.js';
import { GOOD_ANSWER_KEEP_MS } from '../../../src/ports/good-answers.js';
import type { StoredObservation } from '../../../src/ports/store.js';
import { CRL_URL, goodAnswer, HOUR, T0 } from '../../helpers/packed-item-fixtures.js';

// Every certificate in one shard (the first two hex digits), so one file holds them all.
const sha = (i: number): string => `ab${i.toString(16).padStart(62, '0')}`;
const good = (i: number, at: number): StoredObservation => ({
  ...goodAnswer('crl', CRL_URL),
  sha256Cert: sha(i),
  observedAt: at,
  raw: null,
});
const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'revwatch-good-answer-files-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function run(at: number, certificates: readonly number[]): Promise<void> {
  const log = new LocalGoodAnswerFiles(dir);
  for (const i of certificates) log.add(good(i, at));
  await log.commit(at);
}

describe('the local good-answer log', () => {
  it('appends a run to the shard, rewrites it once it holds several runs, and answers the latest each time', async () => {
    const all = Array.from({ length: 50 }, (_, i) => i);
    const file = join(dir, 'ab.jsonl');
    const sizes: number[] = [];
    for (let r = 0; r < 3 * COMPACT_AT_RUNS; r++) {
      await run(T0 + r * HOUR, all);
      sizes.push(statSync(file).size);
      const latest = await new LocalGoodAnswerFiles(dir).latest(all.map(sha));
      expect(latest.size).toBe(50);
      for (const i of all) expect(latest.get(sha(i))!.map((o) => o.observedAt)).toEqual([T0 + r * HOUR]);
    }
    expect(readdirSync(dir)).toEqual(['ab.jsonl']);
    const oneRun = sizes[0]!;
    // Appended while within COMPACT_AT_RUNS runs' lines, then rewritten to one line per pair: never more.
    expect(sizes[1]).toBe(2 * oneRun);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(COMPACT_AT_RUNS * oneRun);
    expect(sizes.filter((s) => s === oneRun).length).toBeGreaterThan(1);
  });

  it('reads past a torn append: the pairs of the next run answer, the torn line costs only its pair', async () => {
    await run(T0, [1, 2]);
    const file = join(dir, 'ab.jsonl');
    // A crash part-way through the next run's append: half a line, no newline.
    const whole = lines(file)[0]!;
    appendFileSync(file, whole.slice(0, whole.length / 2));
    expect((await new LocalGoodAnswerFiles(dir).latest([sha(1), sha(2)])).size).toBe(2);
    await run(T0 + HOUR, [2, 3]);
    const latest = await new LocalGoodAnswerFiles(dir).latest([sha(1), sha(2), sha(3)]);
    expect(latest.get(sha(1))![0]!.observedAt).toBe(T0);
    expect(latest.get(sha(2))![0]!.observedAt).toBe(T0 + HOUR);
    expect(latest.get(sha(3))![0]!.observedAt).toBe(T0 + HOUR);
  });

  it('writes answers alike but for their certificate as one line, and reads back each pair as it was added', async () => {
    const log = new LocalGoodAnswerFiles(dir);
    const added: StoredObservation[] = [];
    // A CRL's 304 for 40 certificates, then two OCSP answers, each with its own signed bytes.
    for (let i = 0; i < 40; i++) added.push(good(i, T0));
    for (const i of [40, 41])
      added.push({ ...goodAnswer('ocsp', 'http://ocsp.example/'), sha256Cert: sha(i), producedAt: T0 + i, raw: Buffer.from([i, 1, 2]) });
    for (const o of added) log.add(o);
    await log.commit(T0);
    const written = lines(join(dir, 'ab.jsonl'));
    expect(written.length).toBe(3);
    expect((JSON.parse(written[0]!) as { certs: string[] }).certs).toEqual(Array.from({ length: 40 }, (_, i) => sha(i)));
    const latest = await new LocalGoodAnswerFiles(dir).latest(added.map((o) => o.sha256Cert));
    for (const o of added) expect(latest.get(o.sha256Cert)).toEqual([{ ...o, raw: o.raw ? Buffer.from(o.raw) : null }]);
  });

  it('reads the lines of one pair each that earlier versions wrote', async () => {
    const before = good(7, T0);
    const { raw: _, ...answer } = before;
    writeFileSync(join(dir, 'ab.jsonl'), `${JSON.stringify({ o: answer, raw: null })}\n`);
    expect((await new LocalGoodAnswerFiles(dir).latest([sha(7)])).get(sha(7))).toEqual([before]);
    await run(T0 + HOUR, [7, 8]);
    const latest = await new LocalGoodAnswerFiles(dir).latest([sha(7), sha(8)]);
    expect(latest.get(sha(7))![0]!.observedAt).toBe(T0 + HOUR);
    expect(latest.get(sha(8))![0]!.observedAt).toBe(T0 + HOUR);
  });

  it('drops answers past the keep time when it rewrites a shard', async () => {
    await run(T0, [1]);
    const later = T0 + GOOD_ANSWER_KEEP_MS + HOUR;
    // A small run onto a shard holding more: rewritten, and the pair no longer asked goes.
    for (let r = 0; r < COMPACT_AT_RUNS; r++) await run(later + r, [2]);
    const latest = await new LocalGoodAnswerFiles(dir).latest([sha(1), sha(2)]);
    expect([...latest.keys()]).toEqual([sha(2)]);
    expect(lines(join(dir, 'ab.jsonl')).length).toBeLessThanOrEqual(COMPACT_AT_RUNS);
  });
});
