/**
 * User mistakes exit 1 with exactly one line on stderr and write nothing
 * (issue: some crashed with exit 70 and a stack trace, some were accepted).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { oneLine, requireNotFuture, describeAwsSetupError, fetchDeadlinesFromEnv } from '../../../src/cli/validate.js';
import { T0 } from '../../helpers/pki-fixtures.js';
import { cli, expectOneLineRefusal, leafToTrack } from '../../helpers/cli-refusal.js';

describe('bad input: one line, exit 1, nothing written', () => {
  const { dir, leafPath, track } = leafToTrack('revwatch-badinput-');

  it.each([
    [['--reported-at', '2099-01-01T00:00:00Z'], /--reported-at 2099-01-01T00:00:00Z is in the future/],
    [['--case', ''], /--case must not be empty/],
    [['--case', '   '], /--case must not be empty/],
    [['--report-url', 'javascript:alert(1)'], /--report-url must be an http or https URL \(got javascript:\)/],
    [['--report-url', 'file:///etc/passwd'], /--report-url must be an http or https URL/],
    [['--report-url', 'not a url'], /--report-url "not a url" is not a URL/],
    [
      ['--notify', 'a@example.com\r\nBcc: victim@example.com'],
      /--notify "a@example.com\\r\\nBcc: victim@example.com" is not an email address/,
    ],
    [['--notify', 'x@example.com\nmore'], /--notify "x@example.com\\nmore" is not an email address/],
    // Issue 23: the delayed-report URL is a link like --report-url; a URL with a line break in it is no URL.
    [['--delayed-report-url', 'javascript:alert(1)'], /--delayed-report-url must be an http or https URL \(got javascript:\)/],
    [['--delayed-report-url', 'data:text/html,<script>alert(1)</script>'], /--delayed-report-url must be an http or https URL/],
    [
      ['--report-url', 'https://bugzilla.example/1\nforged line'],
      /--report-url "https:\/\/bugzilla.example\/1\\nforged line" is not a URL: it contains whitespace/,
    ],
    [['--delayed-report-url', 'https://bugzilla.example/2\r\n'], /--delayed-report-url ".*" is not a URL: it contains whitespace/],
    [['--crl-url', 'http://crl.example/a.crl\t'], /--crl-url ".*" is not a URL: it contains whitespace/],
    [['--report-url', 'https://bugzilla.example/\u202e1'], /--report-url ".*" is not a URL: it contains U\+202E/],
    // Invisible-only and bidi-controlled ids: look like nothing, or like another id.
    [['--case', '\u200b'], /--case ".*" contains an invisible or bidi control character \(U\+200B\)/],
    [['--case', 'case-\u202egnp.exe'], /--case ".*" contains an invisible or bidi control character \(U\+202E\)/],
    [['--case', 'a\u2066b'], /\(U\+2066\)/],
    [['--case', '\u3164'], /--case ".*" has no visible character/],
    [['--case', 'x\u0085y'], /--case ".*" contains an invisible or bidi control character \(U\+0085\)/],
    [['--notify', 'a\u200b@example.com'], /--notify ".*" is not an email address/],
  ])('track %j is refused', async (extra, message) => {
    const home = join(dir, `home-${Math.random().toString(36).slice(2)}`);
    // `track` reads --reported-at from its arguments; a later one wins, as commander does.
    const r = await track(home, ...extra);
    expectOneLineRefusal(r, message);
    expect(existsSync(home)).toBe(false);
  });

  it('accepts a report time up to 5 minutes ahead (clock skew), not more', () => {
    expect(requireNotFuture(T0 + 5 * 60_000, T0, '--reported-at')).toBe(T0 + 5 * 60_000);
    expect(() => requireNotFuture(T0 + 5 * 60_000 + 1, T0, '--reported-at')).toThrow(/in the future/);
  });

  it('accepts an id in any script, and an ordinary http(s) report URL', async () => {
    const { parseCaseId, parseDelayedReportUrl, parseReportUrl } = await import('../../../src/cli/validate.js');
    expect(parseCaseId('incident-2026-東京')).toBe('incident-2026-東京');
    expect(parseCaseId('حادثة-1')).toBe('حادثة-1');
    expect(parseReportUrl('https://bugzilla.mozilla.org/show_bug.cgi?id=1')).toBe('https://bugzilla.mozilla.org/show_bug.cgi?id=1');
    expect(parseDelayedReportUrl('https://bugzilla.mozilla.org/show_bug.cgi?id=2')).toBe('https://bugzilla.mozilla.org/show_bug.cgi?id=2');
  });

  it("refuses --case '' on check, status and report instead of reading every case", async () => {
    for (const argv of [
      ['check', '--case', ''],
      ['status', '--case', ''],
      ['report', '--case', ''],
    ]) {
      const home = join(dir, `home-${Math.random().toString(36).slice(2)}`);
      expectOneLineRefusal(await cli(['--home', home, ...argv]), /--case must not be empty/);
      expect(existsSync(home)).toBe(false);
    }
  });

  it('a --home through a file, or where no directory can be made, exits 1 with one line', async () => {
    expectOneLineRefusal(await cli(['--home', join(leafPath, 'home'), 'status']), /--home .*: .*leaf\.pem is not a directory/);
    expectOneLineRefusal(
      await cli(['--home', '/proc/revwatch-no-such-home', 'status']),
      /cannot create --home \/proc\/revwatch-no-such-home: /,
    );
  });

  it('escapes control characters so a message stays on one line', () => {
    expect(oneLine('a\r\nb\tc\u0007')).toBe('a\\r\\nb\\tc\\x07');
  });

  it('turns AWS setup failures into one line naming the fix, and nothing else', () => {
    const noCreds = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    expect(describeAwsSetupError(noCreds)).toMatch(/^AWS mode: no AWS credentials found/);
    expect(describeAwsSetupError(new Error('Region is missing'))).toMatch(/set AWS_REGION/);
    expect(describeAwsSetupError(new TypeError('x is undefined'))).toBeNull();
  });

  it('reads fetch deadlines from the environment and refuses nonsense', () => {
    expect(fetchDeadlinesFromEnv({ REVWATCH_CRL_DEADLINE_MS: '2000', REVWATCH_OCSP_DEADLINE_MS: '1500' })).toEqual({
      crlDeadlineMs: 2000,
      ocspDeadlineMs: 1500,
    });
    expect(fetchDeadlinesFromEnv({})).toEqual({});
    expect(() => fetchDeadlinesFromEnv({ REVWATCH_CRL_DEADLINE_MS: '2s' })).toThrow(/whole number of milliseconds/);
  });

  it('lists no stray files in the scratch directory after the refusals', () => {
    expect(readdirSync(dir).filter((n) => n.startsWith('nonexistent'))).toEqual([]);
  });
});
