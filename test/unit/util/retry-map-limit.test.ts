/** The one retry (backoff on the Clock) and the one bounded pool the adapters and services share. */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/adapters/system-clock.js';
import { mapLimit } from '../../../src/util/map-limit.js';
import { backoffMs, retry, type Attempt } from '../../../src/util/retry.js';

describe('retry', () => {
  const notYet = async (): Promise<Attempt<never>> => ({ done: false });

  it('waits base, 2·base, 4·base… on the clock between tries, and returns the first done value', async () => {
    const clock = new FakeClock('2026-01-01T00:00:00Z');
    const tries: number[] = [];
    const value = await retry(
      { attempts: 9, baseMs: 100, clock },
      async (n) => {
        tries.push(n);
        return n === 4 ? { done: true, value: 'ok' } : { done: false };
      },
      () => new Error('exhausted'),
    );
    expect(value).toBe('ok');
    expect(tries).toEqual([1, 2, 3, 4]);
    expect(clock.sleeps).toEqual([100, 200, 400]);
    expect(clock.now().toISOString()).toBe('2026-01-01T00:00:00.700Z');
  });

  it('caps each wait at maxMs', async () => {
    const clock = new FakeClock(0);
    await expect(retry({ attempts: 6, baseMs: 100, maxMs: 500, clock }, notYet, () => new Error('gave up'))).rejects.toThrow('gave up');
    expect(clock.sleeps).toEqual([100, 200, 400, 500, 500]);
    expect(backoffMs(10, { baseMs: 100, maxMs: 500 })).toBe(500);
  });

  it('throws what exhausted() returns after the last allowed try, and tries once with attempts 1 (or less)', async () => {
    const clock = new FakeClock(0);
    let tries = 0;
    await expect(
      retry(
        { attempts: 0, baseMs: 100, clock },
        async () => {
          tries++;
          return { done: false };
        },
        () => new Error('once'),
      ),
    ).rejects.toThrow('once');
    expect(tries).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('lets an exception from a try pass straight through, without retrying it', async () => {
    const clock = new FakeClock(0);
    let tries = 0;
    const failing = async (): Promise<Attempt<void>> => {
      tries++;
      throw new Error('access denied');
    };
    await expect(retry({ attempts: 5, baseMs: 100, clock }, failing, () => new Error('exhausted'))).rejects.toThrow('access denied');
    expect(tries).toBe(1);
    expect(clock.sleeps).toEqual([]);
  });
});

describe('mapLimit', () => {
  it('keeps the input order and never has more than `limit` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n, i) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, n));
      inFlight--;
      return `${i}:${n}`;
    });
    expect(out).toEqual(['0:5', '1:1', '2:4', '3:2', '4:3', '5:0', '6:6']);
    expect(most).toBe(3);
  });

  it('starts no further item once one has failed, and rejects with that failure', async () => {
    const started: number[] = [];
    const run = mapLimit([0, 1, 2, 3, 4, 5, 6, 7], 2, async (n) => {
      started.push(n);
      await Promise.resolve();
      if (n === 1) throw new Error('item 1 failed');
      return n;
    });
    await expect(run).rejects.toThrow('item 1 failed');
    // 0 and 1 start together; 0's worker takes 2 before 1's failure is seen; nothing after that.
    expect(started.length).toBeLessThanOrEqual(3);
    expect(started).not.toContain(4);
  });

  it('rejects only once the calls in flight have settled', async () => {
    let running = 0;
    const run = mapLimit([0, 1, 2], 3, async (n) => {
      running++;
      await new Promise((resolve) => setTimeout(resolve, n === 0 ? 0 : 30));
      running--;
      if (n === 0) throw new Error('item 0 failed');
      return n;
    });
    await expect(run).rejects.toThrow('item 0 failed');
    expect(running).toBe(0);
  });

  it('handles no items and a limit below one', async () => {
    expect(await mapLimit([], 4, async (n: number) => n)).toEqual([]);
    expect(await mapLimit([1, 2], 0, async (n) => n * 2)).toEqual([2, 4]);
  });
});
