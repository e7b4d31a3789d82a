import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../src/cli/main.js';
import { FakeClock } from '../../../src/adapters/system-clock.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { DAY, T0 } from '../../helpers/pki-fixtures.js';

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {}, clock: new FakeClock(T0) });
  return { code, stdout, stderr };
}

describe('revwatch deadline', () => {
  it('prints the contract JSON', async () => {
    const r = await cli('--json', 'deadline', '--reported-at', '2024-03-11T14:53:00Z', '--reason', 'misissuance');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      deadline: '2024-03-16T14:53:00Z',
      shouldDeadline: '2024-03-12T14:53:00Z',
      hours: 120,
      rule: {
        id: 'tls-sc6-5d',
        section: 'BR 4.9.1.1',
        version: '1.6.1 (SC6)',
        effectiveFrom: '2018-10-14T00:00:00Z',
        source: expect.stringContaining('servercert@'),
      },
      interpretation: null,
      note: null,
      notifiedBy: null,
      notifiedAt: null,
    });
  });

  it('marks a CAA failure before SC095 as a contested interpretation, with the note', async () => {
    const r = await cli('--json', 'deadline', '--reported-at', '2020-02-29T03:08:00Z', '--reason', 'caa-failure');
    expect(JSON.parse(r.stdout)).toMatchObject({
      deadline: '2020-03-05T03:08:00Z',
      hours: 120,
      interpretation: 'contested',
      note: expect.stringMatching(/servercert issue 580/),
    });
    const human = await cli('deadline', '--reported-at', '2020-02-29T03:08:00Z', '--reason', 'caa-failure');
    expect(human.stdout).toMatch(/interpretation\s+contested/);
    const after = await cli('--json', 'deadline', '--reported-at', '2026-03-31T00:00:00Z', '--reason', 'caa-failure');
    expect(JSON.parse(after.stdout)).toMatchObject({ hours: 24, interpretation: null });
  });

  it('--notified-by microsoft: 24 hours from Microsoft Requirements v1.1 (2025-11-21), any kind', async () => {
    const r = await cli(
      '--json',
      'deadline',
      '--reported-at',
      '2025-11-21T00:00:00Z',
      '--reason',
      'misuse',
      '--kind',
      'smime-subca',
      '--notified-by',
      'microsoft',
    );
    expect(JSON.parse(r.stdout)).toMatchObject({
      deadline: '2025-11-22T00:00:00Z',
      hours: 24,
      notifiedBy: 'microsoft',
      rule: { id: 'microsoft-2.1.13', version: 'v1.1' },
    });
    const bad = await cli('deadline', '--reported-at', '2025-11-21T00:00:00Z', '--reason', 'misuse', '--notified-by', 'someone');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown --notified-by "someone"; accepted: microsoft/);
  });

  it('status --rules-as-of refuses a time without a zone with one line', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-asof-'));
    const r = await cli('--home', home, 'status', '--rules-as-of', '2026-04-01T00:00:00');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('prints a null deadline when no rule applied', async () => {
    const r = await cli(
      '--json',
      'deadline',
      '--reported-at',
      '2023-01-01T00:00:00Z',
      '--reason',
      'key-compromise',
      '--kind',
      'smime-subscriber',
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ deadline: null, shouldDeadline: null, hours: null, rule: { id: 'smime-no-timeline' } });
  });

  it.each([
    [['--reported-at', '2024-03-11T14:53:00', '--reason', 'misissuance'], /with a zone/],
    [
      ['--reported-at', '2024-03-11T14:53:00Z', '--reason', 'typo'],
      /unknown reason "typo" for tls-subscriber; accepted: subscriber-request, /,
    ],
    [['--reported-at', '2024-03-11T14:53:00Z', '--reason', 'misuse', '--kind', 'ev'], /unknown kind "ev"; accepted: tls-subscriber, /],
  ])('refuses %j with one line and exit 1', async (args, message) => {
    const r = await cli('deadline', ...args);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('exits 1 on usage errors', async () => {
    expect((await cli('deadline', '--reason', 'misuse')).code).toBe(1);
    expect((await cli('no-such-command')).code).toBe(1);
    expect((await cli('--help')).code).toBe(0);
  });
});

describe('revwatch inspect', () => {
  it('inspects a CRL file, and refuses an OCSP response given as a CRL with one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revwatch-cli-'));
    const ca = await LocalCa.create({ name: 'CLI CA', notBefore: T0 - DAY, notAfter: T0 + DAY });
    writeFileSync(join(dir, 'ca.der'), ca.info.der);
    writeFileSync(
      join(dir, 'x.crl'),
      ca.crl({
        entries: [{ serial: '1234', revocationDate: T0 - 60_000, reasonCode: 4 }],
        thisUpdate: T0 - 60_000,
        nextUpdate: T0 + DAY,
        crlNumber: 9,
      }),
    );
    writeFileSync(join(dir, 'x.ocsp'), ca.ocspResponse({ answers: [{ serial: '1234', status: 'good', thisUpdate: T0 }], producedAt: T0 }));
    const r = await cli('--json', 'inspect', 'crl', join(dir, 'x.crl'), '--issuer', join(dir, 'ca.der'), '--serial', '1234');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      signatureValid: true,
      crlNumber: '9',
      entries: 1,
      fresh: true,
      matches: [{ serial: '1234', reasonCode: 'superseded' }],
      problems: [],
    });
    const wrong = await cli('inspect', 'crl', join(dir, 'x.ocsp'));
    expect(wrong).toMatchObject({ code: 1, stdout: '' });
    expect(wrong.stderr).toMatch(/x.ocsp is not a CRL: it is an OCSP response\n$/);
    const ocsp = await cli('--json', 'inspect', 'ocsp', join(dir, 'x.ocsp'), '--issuer', join(dir, 'ca.der'));
    expect(JSON.parse(ocsp.stdout)).toMatchObject({
      responseStatus: 'successful',
      signatureValid: true,
      signer: 'issuer',
      responses: [{ serial: '1234', status: 'good' }],
    });
    const notOcsp = await cli('inspect', 'ocsp', join(dir, 'x.crl'));
    expect(notOcsp.stderr).toMatch(/is not an OCSP response: it is a CRL/);
  });
});
