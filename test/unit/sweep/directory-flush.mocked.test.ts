/**
 * Durable writes flush the directory of a file they made or renamed (durable-files.ts). A sweep makes
 * thousands of files in a few directories at once: the flushes asked for while one runs share the next one,
 * counted here by the directory opens (a flush opens the directory), never timed. Writes one after another
 * still flush once each.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const directoryOpens: string[] = [];
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: (path: string, flags?: string | number, mode?: number) => {
      if (flags === 'r' && !String(path).endsWith('.partial')) directoryOpens.push(String(path));
      return real.open(path, flags, mode);
    },
  };
});

const { appendLinesAsync, replaceFileAsync } = await import('../../../src/adapters/local/durable-files.js');

describe('directory flushes of durable writes', () => {
  it('writes made side by side share flushes of their directory; writes made one after another flush once each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revwatch-dir-flush-'));
    directoryOpens.length = 0;
    const n = 40;
    await Promise.all([
      ...Array.from({ length: n }, (_, i) => appendLinesAsync(join(dir, `${i}.log`), `line ${i}\n`)),
      ...Array.from({ length: n }, (_, i) => replaceFileAsync(join(dir, `${i}.bin`), Buffer.from(`file ${i}`))),
    ]);
    for (let i = 0; i < n; i++) {
      expect(readFileSync(join(dir, `${i}.log`), 'utf8')).toBe(`line ${i}\n`);
      expect(readFileSync(join(dir, `${i}.bin`), 'utf8')).toBe(`file ${i}`);
    }
    const together = directoryOpens.filter((p) => p === dir).length;
    expect(together).toBeGreaterThanOrEqual(1);
    expect(together).toBeLessThan(n);

    directoryOpens.length = 0;
    for (let i = 0; i < 5; i++) await appendLinesAsync(join(dir, `one-by-one-${i}.log`), 'x\n');
    // An append to a file that exists already makes no directory entry: no flush.
    await appendLinesAsync(join(dir, 'one-by-one-0.log'), 'y\n');
    expect(directoryOpens.filter((p) => p === dir)).toHaveLength(5);
    expect(existsSync(join(dir, 'one-by-one-4.log'))).toBe(true);
  });
});
