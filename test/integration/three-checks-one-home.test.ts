/**
 * Three `revwatch check` processes (the built CLI) started at once on one
 * home (issue #23 keeps this passing): each exits 0, by itself or after
 * waiting for the home's lock with its one-line message; no write is lost
 * (three runs recorded, every certificate's change to "revoked" recorded)
 * and none is doubled (no two identical observations).
 *
 * The CA's CRL is served on 127.0.0.1; spawns bin/revwatch.js (global-setup
 * builds dist/).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { type LiveCrl, serveLiveCrl, spawnRevwatch } from '../helpers/live-crl.js';

const DAY = 86_400_000;
const LEAVES = 3;

const revwatch = spawnRevwatch;

describe('three checks at once on one home', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-three-checks-'));
  const home = join(dir, 'home');
  const now = Date.now();
  const revocationDate = Math.floor((now - 2 * 3_600_000) / 1000) * 1000;
  const serials: string[] = [];
  const shas: string[] = [];
  let revoked = false;
  let ca: LocalCa;
  let crl: LiveCrl;

  beforeAll(async () => {
    ca = await LocalCa.create({ name: 'Three Checks CA', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
    crl = await serveLiveCrl(ca, () => (revoked ? serials.map((serial) => ({ serial, revocationDate, reasonCode: 1 })) : []));
    const crlUrl = crl.url;
    writeFileSync(join(dir, 'ca.der'), ca.info.der);
    for (let i = 0; i < LEAVES; i++) {
      const leaf = await ca.issue({
        subject: `CN=t${i}.three.example`,
        notBefore: now - 5 * DAY,
        notAfter: now + 60 * DAY,
        crlUrls: [crlUrl],
      });
      serials.push(leaf.info.serial);
      shas.push(leaf.info.sha256);
      writeFileSync(join(dir, `${i}.der`), leaf.info.der);
      const tracked = await revwatch(home, [
        'track',
        join(dir, `${i}.der`),
        '--issuer',
        join(dir, 'ca.der'),
        '--case',
        `three-${i}`,
        '--reported-at',
        new Date(now - DAY).toISOString(),
        '--reason',
        'key-compromise',
      ]);
      expect(tracked.code, tracked.stderr).toBe(0);
    }
    const first = await revwatch(home, ['check']);
    expect(first.code, first.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await crl?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('all three exit 0 (waiting for the lock if need be); three runs and every revocation recorded, nothing doubled', async () => {
    const opened = await openEmbeddedStore(home);
    const runsBefore = (await opened.store.listRuns(100)).length;
    await opened.close();

    revoked = true;
    const ended = await Promise.all([revwatch(home, ['check']), revwatch(home, ['check']), revwatch(home, ['check'])]);
    for (const r of ended) {
      expect({ code: r.code, signal: r.signal }, r.stderr).toEqual({ code: 0, signal: null });
      // Anything on stderr is the lock-wait line, nothing else (no stack, no error).
      for (const line of r.stderr.split('\n').filter((l) => l.trim() !== '')) expect(line).toMatch(/^revwatch: waiting for the lock on /);
    }

    const reopened = await openEmbeddedStore(home);
    try {
      expect((await reopened.store.listRuns(100)).length).toBe(runsBefore + 3);
    } finally {
      await reopened.close();
    }
    const status = await revwatch(home, ['--json', 'status']);
    expect(status.code, status.stderr).toBe(0);
    const cases = (
      JSON.parse(status.stdout) as {
        cases: {
          id: string;
          certificates: { serial: string; firstSeenRevokedAt: string | null; sources: { kind: string; status: string }[] }[];
        }[];
      }
    ).cases;
    expect(cases.map((c) => c.id).sort()).toEqual(['three-0', 'three-1', 'three-2']);
    for (const c of cases) {
      const cert = c.certificates[0]!;
      expect(cert.firstSeenRevokedAt, c.id).not.toBeNull();
      expect(cert.sources.map((s) => `${s.kind}:${s.status}`)).toEqual(['crl:revoked']);
    }
    const again = await openEmbeddedStore(home);
    try {
      for (const [i, sha] of shas.entries()) {
        const obs = await again.store.listObservations(sha);
        const keys = obs.map((o) => JSON.stringify([o.observedAt, o.source, o.status]));
        expect(new Set(keys).size, `three-${i}`).toBe(keys.length);
        expect(obs.filter((o) => o.status === 'revoked').length, `three-${i}`).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await again.close();
    }
  });
});
