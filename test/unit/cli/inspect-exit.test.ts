/**
 * `inspect` for scripts: exit 3 when what was read is not valid evidence,
 * and `notListed` for requested serials the CRL does not list.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../src/cli/main.js';
import { FakeClock } from '../../../src/adapters/system-clock.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { extensionDer } from '../../../src/local-ca/crl-writer.js';
import { seq } from '../../../src/pki/der.js';
import { DAY, T0 } from '../../helpers/pki-fixtures.js';

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {}, clock: new FakeClock(T0) });
  return { code, stdout, stderr };
}

describe('revwatch inspect exit codes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-inspect-'));
  const f = (name: string) => join(dir, name);
  beforeAll(async () => {
    const ca = await LocalCa.create({ name: 'Inspect CA', notBefore: T0 - 10 * DAY, notAfter: T0 + 10 * DAY });
    const other = await LocalCa.create({ name: 'Inspect CA', notBefore: T0 - 10 * DAY, notAfter: T0 + 10 * DAY });
    writeFileSync(f('ca.der'), ca.info.der);
    writeFileSync(f('other.der'), other.info.der);
    const entries = [{ serial: '1234', revocationDate: T0 - 60_000, reasonCode: 1 }];
    writeFileSync(f('good.crl'), ca.crl({ entries, thisUpdate: T0 - 60_000, nextUpdate: T0 + DAY, crlNumber: 1 }));
    writeFileSync(f('stale.crl'), ca.crl({ entries, thisUpdate: T0 - 3 * DAY, nextUpdate: T0 - DAY, crlNumber: 1 }));
    writeFileSync(
      f('empty-idp.crl'),
      ca.crl({
        entries,
        thisUpdate: T0 - 60_000,
        nextUpdate: T0 + DAY,
        crlNumber: 1,
        extraExtensions: [extensionDer('2.5.29.28', seq(), true)],
      }),
    );
    writeFileSync(
      f('bad-sig.crl'),
      ca.crl({ entries, thisUpdate: T0 - 60_000, nextUpdate: T0 + DAY, crlNumber: 1, corruptSignature: true }),
    );
    writeFileSync(
      f('good.ocsp'),
      ca.ocspResponse({
        answers: [{ serial: '1234', status: 'good', thisUpdate: T0 - 60_000, nextUpdate: T0 + DAY }],
        producedAt: T0 - 60_000,
      }),
    );
    writeFileSync(
      f('stale.ocsp'),
      ca.ocspResponse({
        answers: [{ serial: '1234', status: 'good', thisUpdate: T0 - 3 * DAY, nextUpdate: T0 - DAY }],
        producedAt: T0 - 3 * DAY,
      }),
    );
    writeFileSync(
      f('bad-sig.ocsp'),
      ca.ocspResponse({
        answers: [{ serial: '1234', status: 'good', thisUpdate: T0 - 60_000, nextUpdate: T0 + DAY }],
        producedAt: T0 - 60_000,
        corruptSignature: true,
      }),
    );
  });

  it('exits 0 for a fresh CRL that verifies, listing requested serials it does not hold as notListed', async () => {
    const r = await cli(
      '--json',
      'inspect',
      'crl',
      f('good.crl'),
      '--issuer',
      f('ca.der'),
      '--serial',
      '1234',
      '--serial',
      '0abc',
      '--serial',
      'ABC',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.matches.map((m: { serial: string }) => m.serial)).toEqual(['1234']);
    expect(out.notListed).toEqual(['0abc']);
    const text = await cli('inspect', 'crl', f('good.crl'), '--serial', '0abc');
    expect(text.stdout).toMatch(/not listed\s+0abc/);
  });

  it.each([
    ['stale.crl', 'ca.der', /not fresh/],
    ['empty-idp.crl', 'ca.der', /unusable: the issuingDistributionPoint extension is an empty SEQUENCE/],
    ['bad-sig.crl', 'ca.der', /CRL signature does not verify/],
    ['good.crl', 'other.der', /CRL signature does not verify/],
  ])('exits 3 for %s checked against %s, after printing the inspection', async (file, issuer, message) => {
    const r = await cli('--json', 'inspect', 'crl', f(file), '--issuer', f(issuer), '--serial', '1234');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toHaveProperty('issuer');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^revwatch: not valid evidence: /);
    expect(r.stderr).toMatch(message);
  });

  it('exits 0 for a verified OCSP answer and 3 for a stale or badly signed one', async () => {
    expect((await cli('--json', 'inspect', 'ocsp', f('good.ocsp'), '--issuer', f('ca.der'))).code).toBe(0);
    const stale = await cli('--json', 'inspect', 'ocsp', f('stale.ocsp'), '--issuer', f('ca.der'));
    expect(stale.code).toBe(3);
    expect(stale.stderr).toMatch(/^revwatch: not valid evidence: .*stale/);
    const bad = await cli('--json', 'inspect', 'ocsp', f('bad-sig.ocsp'), '--issuer', f('ca.der'));
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/signature is not valid/);
    const wrongIssuer = await cli('inspect', 'ocsp', f('good.ocsp'), '--issuer', f('other.der'));
    expect(wrongIssuer.code).toBe(3);
  });
});
