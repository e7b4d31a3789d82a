/**
 * A URL's first read adds every entry of its CRL. The local change log names the CRL (kept by hash in
 * <home>/crls/) instead of listing its entries again, and reads them back from it: the same segment for a
 * reader, a line of a few hundred bytes on disk. A later read with a previous snapshot lists its difference.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localEvidenceFiles } from '../../../src/adapters/local/evidence-files.js';
import { RevocationIndexFiles, urlId } from '../../../src/adapters/local/revocation-index-files.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { toPem } from '../../../src/pki/certificate.js';
import { emptySweepState, type SweepState } from '../../../src/ports/revocation-index.js';
import type { StoredDisclosure } from '../../../src/ccadb/store.js';
import { runSweep, type SweepDeps } from '../../../src/sweep/sweep.js';
import { serving } from '../../helpers/pki-fixtures.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
const CRL_URL = 'http://crl.example/first.crl';
const homes: string[] = [];

afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

describe('a first read in the local change log', () => {
  it('names the kept CRL instead of repeating its entries, and reads them back from it', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-first-read-'));
    homes.push(home);
    const root = await LocalCa.create({ name: 'First Read Root', notBefore: NOW - 400 * DAY, notAfter: NOW + 400 * DAY });
    const ca = await LocalCa.create({ name: 'First Read CA', notBefore: NOW - 400 * DAY, notAfter: NOW + 400 * DAY, parent: root });
    // Out of order, one serial twice (the earliest claim stands), one without a reason.
    const entries = [
      { serial: '3c4d5e', revocationDate: NOW - 2 * DAY, reasonCode: 4 },
      { serial: '0a1b2c', revocationDate: NOW - DAY, reasonCode: 1 },
      { serial: '3c4d5e', revocationDate: NOW - 3 * DAY, reasonCode: 4 },
      { serial: '7f', revocationDate: NOW - DAY },
    ];
    const crlOf = (list: typeof entries, crlNumber: number): Buffer =>
      ca.crl({ entries: list, thisUpdate: NOW - 3_600_000 + crlNumber, nextUpdate: NOW + 6 * DAY, crlNumber });
    let crl = crlOf(entries, 1);
    const disclosure: StoredDisclosure = {
      sha256: ca.info.sha256,
      name: 'First Read CA',
      owner: 'First Read Owner',
      subjectKeyId: ca.info.subjectKeyId,
      fullCrl: CRL_URL,
      fullCrls: [CRL_URL],
      partitionedCrls: [],
      pem: toPem(ca.info.der),
      subjectNameHash: null,
      importedAt: NOW - DAY,
    };
    let state: SweepState = emptySweepState();
    const index = new RevocationIndexFiles(home, { writeBehind: true });
    const deps: SweepDeps = {
      disclosures: { current: async () => [disclosure] },
      fetcher: serving(() => crl),
      clock: { now: () => new Date(NOW), sleep: async () => {} },
      index,
      state: {
        load: async () => state,
        save: async (next) => {
          state = next;
        },
      },
      evidence: localEvidenceFiles(home),
    };
    const first = await runSweep(deps);
    expect(first.added).toBe(3);
    const sha1 = createHash('sha256').update(crl).digest('hex');
    const log = (): string => readFileSync(join(home, 'sweep', 'urls', `${urlId(CRL_URL)}.changes`), 'utf8');
    const firstLine = log();
    expect(JSON.parse(firstLine).added).toEqual({ everyEntryOf: sha1 });
    expect(firstLine).not.toContain('0a1b2c');

    const expected = [
      ['0a1b2c', NOW - DAY, 1],
      ['3c4d5e', NOW - 3 * DAY, 4],
      ['7f', NOW - DAY, null],
    ];
    const read = async (from: RevocationIndexFiles) => (await from.segments(CRL_URL)).map((s) => ({ ...s }));
    const [segment] = await read(new RevocationIndexFiles(home));
    expect(segment).toEqual({
      url: CRL_URL,
      issuerKey: createHash('sha256').update(ca.info.raw.spki).digest('hex'),
      sweep: 1,
      previousRead: null,
      previousSha256: null,
      sha256: sha1,
      added: expected,
      removed: [],
      claimChanged: [],
    });

    // A later read has a previous snapshot: its difference is listed in the line.
    crl = crlOf([...entries.slice(1), { serial: '99', revocationDate: NOW, reasonCode: 5 }], 2);
    const second = await runSweep(deps);
    expect([second.added, second.removed]).toEqual([1, 0]);
    const secondLine = log().slice(firstLine.length);
    expect(JSON.parse(secondLine).added).toEqual([['99', NOW, 5]]);
    expect((await read(new RevocationIndexFiles(home))).map((s) => s.added)).toEqual([expected, [['99', NOW, 5]]]);

    // The kept CRL is the line's evidence: damaged on disk, it is refused by name, not read as other entries.
    const kept = join(home, 'crls', `${sha1}.crl`);
    const damaged = readFileSync(kept);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 1) ^ 0xff, damaged.length - 1);
    writeFileSync(kept, damaged);
    await expect(read(new RevocationIndexFiles(home))).rejects.toThrow(/does not hash to its name/);
  });
});
