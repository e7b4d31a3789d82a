import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';

const tableFiles = (home: string): string[] => readdirSync(join(home, 'db')).filter((f) => /\.(ldb|sst)$/.test(f));

describe('the embedded store', () => {
  const homes: string[] = [];
  afterEach(() => {
    for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
  });

  it('keeps a bulk write in LevelDB’s enlarged write buffer: 16 MB of certificates stored leaves no table file to compact yet', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-embedded-'));
    homes.push(home);
    const open = await openEmbeddedStore(home);
    try {
      // Random bytes, so LevelDB's compression cannot shrink them under its default 4 MB buffer.
      const ders = Array.from({ length: 4_000 }, () => {
        const der = randomBytes(4096);
        return { sha256: randomBytes(32).toString('hex'), der };
      });
      await open.store.putCertificateDers(ders);
      // With LevelDB's default buffer this leaves several table files (level 0) while the store is open.
      expect(tableFiles(home)).toEqual([]);
      const back = await open.store.getCertificateDers(ders.slice(0, 50).map((d) => d.sha256));
      expect(back.size).toBe(50);
      expect(Buffer.from(back.get(ders[7]!.sha256)!).equals(ders[7]!.der)).toBe(true);
    } finally {
      await open.close();
    }
  });
});
