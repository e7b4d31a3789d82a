/**
 * Writing commands, one after another on one home, each in its own process
 * (the built CLI): every one must exit 0 by itself (no SIGSEGV at exit, no
 * lock left behind) and every write must be there afterwards.
 *
 * Each round runs three writing commands:
 * - `ccadb import` of a report with one more CA row than the last: it must
 *   count exactly 1 new row and every earlier one unchanged, so each earlier
 *   import's writes were kept;
 * - `track` of a new certificate of a local CA under a new case;
 * - `check`, against that CA's CRL on 127.0.0.1, which by then also lists the
 *   previous round's certificate: it writes the new certificate's first
 *   observation ("good") and the previous one's change ("revoked").
 * At the end `status` must show every case, every certificate but the last
 * revoked and the last good, all read from the CRL.
 *
 * The CI form runs REVWATCH_STRESS_ROUNDS=8 (24 commands; ~1 min on a loaded
 * 2-core machine). The long form: REVWATCH_STRESS_ROUNDS=167 npx vitest run
 * test/integration/store-stress.test.ts (501 commands).
 *
 * Spawns the built CLI (`npx tsc -p tsconfig.build.json` first). Loopback only.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCa } from '../../src/local-ca/ca.js';
import { type Ended, type LiveCrl, serveLiveCrl, spawnRevwatch } from '../helpers/live-crl.js';

const DAY = 24 * 3_600_000;
const ROUNDS = Number(process.env.REVWATCH_STRESS_ROUNDS ?? 8);

const revwatch = spawnRevwatch;

const fingerprint = (i: number): string => i.toString(16).padStart(8, '0').repeat(8);
const csvRow = (fields: string[]): string => `${fields.map((f) => `"${f}"`).join(',')}\r\n`;
const ccadbReport = (rows: number): string =>
  csvRow([
    'SHA-256 Fingerprint',
    'Certificate Name',
    'CA Owner',
    'Subject Key Identifier',
    'Full CRL Issued By This CA',
    'JSON Array of Partitioned CRLs',
  ]) +
  Array.from({ length: rows }, (_, i) =>
    csvRow([fingerprint(i), `Stress CA ${i}`, 'Stress Owner', 'AQI=', `http://crl.invalid/${i}.crl`, '']),
  ).join('');

describe(`the embedded store under ${ROUNDS * 3} writing commands on one home`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-stress-'));
  const home = join(dir, 'home');
  const now = Date.now();
  const reportedAt = new Date(Math.floor((now - DAY) / 60_000) * 60_000).toISOString();
  const revocationDate = Math.floor((now - 2 * 3_600_000) / 1000) * 1000;
  let ca: LocalCa;
  let crl: LiveCrl;
  const serials: string[] = [];
  /** How many certificates the CRL lists as revoked (the first n issued). */
  let revokedCount = 0;

  beforeAll(async () => {
    ca = await LocalCa.create({ name: 'Stress Test CA', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
    crl = await serveLiveCrl(ca, () => serials.slice(0, revokedCount).map((serial) => ({ serial, revocationDate, reasonCode: 1 })));
    const crlUrl = crl.url;
    writeFileSync(join(dir, 'ca.der'), ca.info.der);
    for (let i = 0; i < ROUNDS; i++) {
      const leaf = await ca.issue({
        subject: `CN=s${i}.stress.example`,
        notBefore: now - 5 * DAY,
        notAfter: now + 60 * DAY,
        crlUrls: [crlUrl],
      });
      serials.push(leaf.info.serial);
      writeFileSync(join(dir, `${i}.der`), leaf.info.der);
      writeFileSync(join(dir, `report-${i}.csv`), ccadbReport(i + 1));
    }
  }, 300_000);

  afterAll(async () => {
    await crl?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every command exits 0 and every write is there afterwards', async () => {
    const failures: string[] = [];
    let commands = 0;
    const expectExit0 = (r: Ended): boolean => {
      commands++;
      if (r.code === 0 && r.signal === null) return true;
      failures.push(`${r.args}: ${r.signal ?? `exit ${r.code}`}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
      return false;
    };
    for (let i = 0; i < ROUNDS; i++) {
      const imported = await revwatch(home, ['--json', 'ccadb', 'import', join(dir, `report-${i}.csv`)]);
      if (expectExit0(imported)) {
        const counts = JSON.parse(imported.stdout) as { added: number; unchanged: number; changed: number };
        if (counts.added !== 1 || counts.unchanged !== i || counts.changed !== 0)
          failures.push(
            `import ${i}: ${JSON.stringify({ added: counts.added, unchanged: counts.unchanged, changed: counts.changed })}, expected 1 new and ${i} unchanged`,
          );
      }
      expectExit0(
        await revwatch(home, [
          'track',
          join(dir, `${i}.der`),
          '--issuer',
          join(dir, 'ca.der'),
          '--case',
          `stress-${i}`,
          '--reported-at',
          reportedAt,
          '--reason',
          'key-compromise',
        ]),
      );
      // The previous round's certificate is revoked from now on.
      revokedCount = i;
      expectExit0(await revwatch(home, ['check']));
    }
    console.log(`store stress: ${commands} writing commands on one home, ${commands - failures.length} exited 0 with their writes kept`);
    expect(failures, failures.join('\n')).toEqual([]);
    expect(commands).toBe(ROUNDS * 3);

    const status = await revwatch(home, ['--json', 'status']);
    expect(status.code, status.stderr).toBe(0);
    const cases = (
      JSON.parse(status.stdout) as {
        cases: { id: string; certificates: { serial: string; sources: { kind: string; status: string }[] }[] }[];
      }
    ).cases;
    expect(cases.map((c) => c.id).sort()).toEqual(Array.from({ length: ROUNDS }, (_, i) => `stress-${i}`).sort());
    for (const c of cases) {
      const i = Number(c.id.slice('stress-'.length));
      expect(c.certificates.map((cert) => cert.serial)).toEqual([serials[i]]);
      expect(
        c.certificates[0]!.sources.map((s) => `${s.kind} ${s.status}`),
        c.id,
      ).toEqual([`crl ${i < ROUNDS - 1 ? 'revoked' : 'good'}`]);
    }
    const reimport = await revwatch(home, ['--json', 'ccadb', 'import', join(dir, `report-${ROUNDS - 1}.csv`)]);
    expect(reimport.code, reimport.stderr).toBe(0);
    expect(JSON.parse(reimport.stdout)).toMatchObject({ added: 0, changed: 0, unchanged: ROUNDS });
  }, 3_600_000);
});
