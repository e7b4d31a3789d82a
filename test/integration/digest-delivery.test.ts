/**
 * The digest has no side effects: looking at it twice shows the same new
 * findings; only a delivered digest (`--send`, the weekly function) moves the
 * "new since" marker, and `--since` still overrides it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { produceDigest, type Digest } from '../../src/report/digest.js';
import { run } from '../../src/cli/main.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { iso } from '../../src/time.js';
import { HOUR, makeWorld, T0, type World } from '../unit/check/world.js';

const codes = (d: Digest): string[] => d.cas.flatMap((ca) => ca.newFindings.map((f) => `${f.serial} ${f.code}`)).sort();

describe('digest without side effects', () => {
  let w: World;
  const look = (now: number, since?: number) =>
    produceDigest(w.store, now, since, async () => undefined, { recordDelivery: false, disclosures: null });
  const send = (now: number) => produceDigest(w.store, now, undefined, async () => undefined, { recordDelivery: true, disclosures: null });

  beforeAll(async () => {
    w = await makeWorld([{ name: 'backdated' }, { name: 'other' }]);
    await w.check();
    // Seen good at T0, then revoked with a claimed time an hour before that good answer: backdated.
    w.clock.set(T0 + 2 * HOUR);
    w.fetcher.revoke(w.certs.backdated!.serial, T0 - HOUR, 1);
    await w.check();
  });

  it('shows the same new findings when looked at twice in a row, and records nothing', async () => {
    const first = await look(T0 + 3 * HOUR);
    expect(codes(first)).toContain(`${w.certs.backdated!.serial} revocation_backdated`);
    const second = await look(T0 + 4 * HOUR);
    expect(codes(second)).toEqual(codes(first));
    expect(await w.store.lastDigestAt()).toBeNull();
  });

  it('after a delivered digest the same findings are no longer new; --since still shows them', async () => {
    const delivered = await send(T0 + 5 * HOUR);
    expect(codes(delivered)).toContain(`${w.certs.backdated!.serial} revocation_backdated`);
    expect(await w.store.lastDigestAt()).toBe(T0 + 5 * HOUR);
    const after = await look(T0 + 6 * HOUR);
    expect(codes(after)).toEqual([]);
    expect(after.since).toBe(iso(T0 + 5 * HOUR));
    const overridden = await look(T0 + 6 * HOUR, T0);
    expect(codes(overridden)).toContain(`${w.certs.backdated!.serial} revocation_backdated`);
  });

  it('a delivery that fails records nothing', async () => {
    const before = await w.store.lastDigestAt();
    await expect(
      produceDigest(w.store, T0 + 7 * HOUR, undefined, async () => Promise.reject(new Error('SES down')), {
        recordDelivery: true,
        disclosures: null,
      }),
    ).rejects.toThrow('SES down');
    expect(await w.store.lastDigestAt()).toBe(before);
  });
});

describe('revwatch digest / digest --send', () => {
  it('records a delivery only with --send', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-digest-'));
    const clock = new FakeClock(T0);
    let stderr = '';
    const cli = (...argv: string[]) =>
      run(['--home', home, ...argv], {
        stdout: () => undefined,
        stderr: (s) => {
          stderr += s;
        },
        env: {},
        clock,
      });
    expect(await cli('digest')).toBe(0);
    expect(stderr).toBe('');
    expect(await cli('digest', '--format', 'markdown')).toBe(0);
    let open = await openEmbeddedStore(home);
    expect(await open.store.lastDigestAt()).toBeNull();
    await open.close();
    expect(await cli('digest', '--send')).toBe(0);
    // It says what it recorded, that it emailed no one, and where the next digest starts.
    expect(stderr).toBe(
      `revwatch: digest recorded as delivered at ${iso(T0)}: 0 new finding(s) since ${iso(T0 - 7 * 24 * HOUR)} now count as reported; ` +
        "revwatch emailed it to no one (post the text yourself; the stack's weekly digest function mails its own); " +
        `the next digest counts new findings from ${iso(T0)}\n`,
    );
    open = await openEmbeddedStore(home);
    expect(await open.store.lastDigestAt()).toBe(T0);
    await open.close();
  });
});
