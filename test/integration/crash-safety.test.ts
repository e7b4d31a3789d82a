/**
 * Crash safety: a `check` over 240 certificates (4 cases, a CRL and an OCSP
 * responder each) is killed with SIGKILL at several points: before any
 * answer, a quarter, half and nearly all of the way through the OCSP
 * requests, and 40 ms after the last OCSP answer (around writing the
 * observations and sending notices). Then it is run to the end, and once
 * more after the notice lease has lapsed. The result must equal a control
 * home that ran without being killed: the same observations (one per
 * certificate and source, none duplicated, none lost), the same verdicts,
 * and the same notices, each sent exactly once.
 *
 * Spawns the built CLI (`npx tsc -p tsconfig.build.json` first). Loopback only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { checkedControl, crashWorld, finishAndSnapshot, type CrashWorld } from './crash-safety-world.js';

const CASES = 4;
const PER_CASE = 60;

describe('crash safety: check killed with SIGKILL, then re-run', () => {
  let world: CrashWorld;

  beforeAll(async () => {
    world = await crashWorld({ cases: CASES, perCase: PER_CASE, prefix: 'crash' });
  }, 300_000);

  afterAll(async () => {
    await world?.close();
  });

  it('leaves the same observations, verdicts and notices as a run never killed', async () => {
    const control = await checkedControl(world);

    const crashed = join(world.dir, 'crashed');
    await world.trackAll(crashed);
    const total = CASES * PER_CASE;
    const points: [string, () => boolean][] = [
      ['before any OCSP answer', () => world.ocspHits >= 1],
      ['a quarter through', () => world.ocspHits >= total / 4],
      ['half way', () => world.ocspHits >= total / 2],
      ['nearly done', () => world.ocspHits >= total - 5],
    ];
    const kills: string[] = [];
    for (const [name, when] of points) {
      world.ocspHits = 0;
      const ended = await world.spawnCheck(crashed, when);
      kills.push(`${name}: ${ended.signal ?? `exit ${ended.code}`} after ${world.ocspHits} OCSP answers`);
      // kill -9 leaves the lock behind: the next command takes it over at once, its owner's process being gone.
    }
    // Around the end of the run (writes, notices): 40 ms after the last OCSP answer.
    world.ocspHits = 0;
    let doneAt = 0;
    const duringNotices = await world.spawnCheck(crashed, () => {
      if (world.ocspHits >= total && doneAt === 0) doneAt = Date.now();
      return doneAt > 0 && Date.now() - doneAt > 40;
    });
    kills.push(`during notices: ${duringNotices.signal ?? `exit ${duringNotices.code}`}`);
    console.log(`crash-safety kill points:\n  ${kills.join('\n  ')}`);
    expect(kills.filter((k) => k.includes('SIGKILL')).length, kills.join('\n')).toBeGreaterThanOrEqual(3);

    // Re-run to the end, then once more as the next scheduled run would; the control home gets the same. The
    // control itself: one observation per certificate and source, all revoked, on time.
    const { expected, got } = await finishAndSnapshot(world, crashed, control);
    expect(got.cases).toEqual(expected.cases);
    expect(got.mails).toEqual(expected.mails);
    // 26 s in CI; 350 s on the shared 2-core machine at load 27 (seven spawned checks, each slowed alike).
  }, 1_200_000);
});
