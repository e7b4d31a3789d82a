/** docs/cli.md lists every CRL-health finding as CRL_HEALTH_CHECKS defines it: a row per code, with its severity and citation. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRL_HEALTH_CHECKS } from '../../../src/sweep/health.js';

describe('the crl-health table in docs/cli.md', () => {
  it('has one row per check, as the table says it', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/cli.md'), 'utf8');
    const rows = doc.split('\n').filter((l) => /^\| `[a-z_0-9]+` \| (violation|warning|info) \|/.test(l));
    expect(rows).toEqual(
      Object.entries(CRL_HEALTH_CHECKS).map(([code, c]) => `| \`${code}\` | ${c.severity} | ${c.summary} | ${c.citation} |`),
    );
  });
});
