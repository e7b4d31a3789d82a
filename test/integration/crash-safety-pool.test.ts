/**
 * Crash safety at the size where a check writes part way through (issue 29): the recorder writes once 2,000
 * answers are pending, so a `check` of 2,200 certificates writes most of its CRL's answers before its OCSP
 * responder has answered. Killed then (SIGKILL, the responder holding every answer, the process idle after that
 * write), and run again, the home must end as one whose check was never killed: every certificate with its CRL's
 * observation and (one in ten) its responder's, once each, the same verdicts and the same notices. A certificate whose CRL
 * answer settles it must not be put aside until its daily round (the settled pool, check/settled-round.ts) while
 * its responder has never answered: nothing of the run that was killed may be needed to ask it.
 *
 * Spawns the built CLI (`npx tsc -p tsconfig.build.json` first). Loopback only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { checkedControl, crashWorld, finishAndSnapshot, quietFor, unevenObservations, type CrashWorld } from './crash-safety-world.js';

const CASES = 2;
const PER_CASE = 1_100;
/** One leaf in ten names the responder: enough to be killed waiting on it, and a run asks 220 of them, not 2,200. */
const OCSP_EVERY = 10;

describe('crash safety: check killed after its CRL answers were written, before its OCSP answers', () => {
  let world: CrashWorld;

  beforeAll(async () => {
    world = await crashWorld({ cases: CASES, perCase: PER_CASE, prefix: 'crash-pool', ocspEvery: OCSP_EVERY });
  }, 300_000);

  afterAll(async () => {
    await world?.close();
  });

  it('leaves the same observations, verdicts and notices as a run never killed', async () => {
    const control = await checkedControl(world);

    const crashed = join(world.dir, 'crashed');
    await world.trackAll(crashed);
    // The responder holds its answers; the CRL is served, its answers are recorded (2,000 of them written), and
    // the run then waits on the responder, using no CPU: killed there. The responder's timeout (15 s) is far off.
    world.holdOcsp(true);
    world.crlHits = 0;
    world.ocspHits = 0;
    const quiet = quietFor(1_000);
    const killed = await world.spawnCheck(crashed, (pid) => world.crlHits > 0 && quiet(pid));
    expect(killed).toEqual({ code: null, signal: 'SIGKILL' });
    world.holdOcsp(false);

    // Run to the end, then once more as the next scheduled run would; the control home gets the same.
    const { expected, got } = await finishAndSnapshot(world, crashed, control);
    // Certificates without one observation per source, by what they have instead: none, before the cases are compared.
    expect(unevenObservations(world, got)).toEqual({});
    expect(got.cases).toEqual(expected.cases);
    expect(got.mails).toEqual(expected.mails);
    // 71 s in CI; several times that on a loaded 2-core machine (crash-safety.test.ts, the same steps on a tenth of
    // the certificates, took 13 times its CI time at load 27).
  }, 1_800_000);
});
