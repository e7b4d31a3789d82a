/**
 * `status --verdict`, `--case` and `--fail-on` (exit 4), and the lines `check`
 * prints: reason names, times to the second, sorted by case and serial.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/main.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { changeLines, humanAnswer } from '../../src/report/check-lines.js';
import { filteredSink, parseVerdicts } from '../../src/status/status-filter.js';
import { streamStatus, textStatusSink, type StatusSink } from '../../src/status/status.js';
import { trackCertificates } from '../../src/track/track.js';
import { openEmbeddedStore } from '../../src/adapters/local/embedded-store.js';
import type { CertificateStatus } from '../../src/rules/verdict.js';
import { DAY, HOUR, makeWorld, T0, testCa, type World } from '../unit/check/world.js';

function collecting(): StatusSink & { cases: { id: string; serials: string[] }[]; end(): void } {
  const cases: { id: string; serials: string[] }[] = [];
  return {
    cases,
    caseStart: (k) => void cases.push({ id: k.id, serials: [] }),
    certificate: (s: CertificateStatus) => void cases[cases.length - 1]!.serials.push(s.serial),
    caseEnd: () => undefined,
    end: () => undefined,
  };
}

describe('status filters', () => {
  let w: World;
  beforeAll(async () => {
    w = await makeWorld([{ name: 'on-time' }, { name: 'late' }, { name: 'never' }]);
    await w.check();
    w.clock.set(T0 + 2 * HOUR);
    w.fetcher.revoke(w.certs['on-time']!.serial, T0 + HOUR, 1);
    await w.check();
    w.clock.set(T0 + 31 * HOUR);
    w.fetcher.revoke(w.certs.late!.serial, T0 + 30 * HOUR, 1);
    await w.check();
  });

  it('--verdict shows only those certificates; --fail-on counts every judged certificate, shown or not', async () => {
    const inner = collecting();
    const sink = filteredSink(inner, parseVerdicts('overdue,revoked_late', '--verdict'), parseVerdicts('revoked_on_time', '--fail-on'));
    await streamStatus(w.store, w.clock.now().getTime(), sink);
    expect(inner.cases).toEqual([{ id: 'c1', serials: [w.certs.late!.serial, w.certs.never!.serial].sort() }]);
    expect(sink.failing()).toBe(1);
  });

  it('leaves out a case none of whose certificates is shown, and says so in text', async () => {
    let text = '';
    const inner = textStatusSink((s) => (text += s), { shownVerdicts: ['expired'] });
    const sink = filteredSink(inner, parseVerdicts('expired', '--verdict'), null);
    await streamStatus(w.store, w.clock.now().getTime(), sink);
    sink.end();
    expect(text).not.toMatch(/c1 {2}Key compromise/);
    expect(text).toMatch(/no certificate has verdict expired/);
  });

  it('refuses an unknown verdict with one line naming the accepted ones', () => {
    expect(() => parseVerdicts('overdue,late', '--verdict')).toThrow(/unknown verdict "late" in --verdict; accepted: pending, overdue/);
    expect(() => parseVerdicts(' , ', '--fail-on')).toThrow(/--fail-on needs at least one verdict/);
  });
});

describe('revwatch status --fail-on (cron)', () => {
  it('exits 4 after printing when a certificate matches, 0 when none does, 1 on a bad verdict', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revwatch-failon-'));
    const ca = await testCa();
    const leaf = await ca.issue({
      subject: 'CN=cron.example',
      notBefore: T0 - DAY,
      notAfter: T0 + 90 * DAY,
      ocspUrls: ['http://127.0.0.1:9/ocsp'],
    });
    const clock = new FakeClock(T0 + 3 * DAY);
    const open = await openEmbeddedStore(home);
    try {
      // Tracked, never checked: no verified answer after the deadline, so undetermined (not overdue).
      await trackCertificates(
        { store: open.store, clock },
        { id: 'cron', title: 'Cron case', reportedAt: T0, reason: 'key-compromise', kind: 'tls-subscriber' },
        [{ certificate: leaf.info, bundle: [], source: 'test' }],
        [ca.info],
      );
    } finally {
      await open.close();
    }
    const cli = async (...argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const code = await run(['--home', home, ...argv], { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {}, clock });
      return { code, stdout, stderr };
    };
    const failing = await cli('status', '--fail-on', 'overdue,undetermined');
    expect(failing.code).toBe(4);
    expect(failing.stdout).toContain(leaf.info.serial);
    expect(failing.stderr).toBe('revwatch: 1 certificate(s) with verdict overdue or undetermined (--fail-on)\n');
    const quiet = await cli('status', '--case', 'cron', '--fail-on', 'overdue', '--verdict', 'overdue');
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toMatch(/no certificate has verdict overdue/);
    const json = await cli('--json', 'status', '--verdict', 'undetermined', '--fail-on', 'undetermined');
    expect(json.code).toBe(4);
    expect(JSON.parse(json.stdout).cases[0].certificates.map((c: { serial: string }) => c.serial)).toEqual([leaf.info.serial]);
    // Repeated, the options add up (as --notify does) rather than the last one winning.
    const repeated = await cli(
      '--json',
      'status',
      '--verdict',
      'undetermined',
      '--verdict',
      'overdue',
      '--fail-on',
      'overdue',
      '--fail-on',
      'undetermined',
    );
    expect(repeated.code).toBe(4);
    expect(repeated.stderr).toBe('revwatch: 1 certificate(s) with verdict overdue or undetermined (--fail-on)\n');
    expect(JSON.parse(repeated.stdout).cases[0].certificates.map((c: { serial: string }) => c.serial)).toEqual([leaf.info.serial]);
    const bad = await cli('status', '--fail-on', 'overdue,latee');
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('check lines', () => {
  it('name the reason, show times to the second, and sort by case, serial and source', () => {
    expect(humanAnswer('revoked@2026-05-01T01:00:00.000Z/1')).toBe('revoked at 2026-05-01T01:00:00Z (keyCompromise)');
    expect(humanAnswer('revoked@2026-05-01T01:00:00.000Z/-')).toBe('revoked at 2026-05-01T01:00:00Z (no reason given)');
    expect(humanAnswer('error:timeout')).toBe('error (timeout)');
    expect(humanAnswer('good')).toBe('good');
    const change = (caseId: string, serial: string, source: string) => ({
      caseIds: [caseId],
      sha256: serial,
      serial,
      source,
      from: 'good',
      to: 'revoked@2026-05-01T01:00:00.000Z/4',
    });
    const lines = changeLines(
      [change('b', '01', 'ocsp x'), change('a', '02', 'ocsp x'), change('a', '01', 'ocsp x'), change('a', '01', 'crl y')],
      3,
    );
    expect(lines).toEqual([
      '  a  01  crl y: good -> revoked at 2026-05-01T01:00:00Z (superseded)',
      '  a  01  ocsp x: good -> revoked at 2026-05-01T01:00:00Z (superseded)',
      '  a  02  ocsp x: good -> revoked at 2026-05-01T01:00:00Z (superseded)',
      '  ... and 1 more',
    ]);
  });
});
