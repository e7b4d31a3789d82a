/**
 * The per-host OCSP limits: one parser behind the CLI options, the worker's
 * environment and the stack's context, the same defaults everywhere, and one
 * clear line for a bad value.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../src/cli/main.js';
import { FakeClock } from '../../../src/adapters/system-clock.js';
import { DEFAULT_OCSP_LIMITS, OCSP_PER_HOST_RANGE, parseOcspLimit } from '../../../src/check/ocsp-limits.js';
import { ConfigError, loadOcspLimits } from '../../../src/runtime/env.js';
import { readStackConfig } from '../../../infra/config.js';
import { T0 } from '../../helpers/pki-fixtures.js';

describe('OCSP limits', () => {
  it('parses integers in range and names the setting otherwise', () => {
    expect(parseOcspLimit('8', '--ocsp-per-host', OCSP_PER_HOST_RANGE)).toBe(8);
    expect(parseOcspLimit(' 64 ', '--ocsp-per-host', OCSP_PER_HOST_RANGE)).toBe(64);
    for (const bad of ['0', '65', '-1', '2.5', '1e1', '', 'four']) {
      expect(parseOcspLimit(bad, '--ocsp-per-host', OCSP_PER_HOST_RANGE)).toBe(
        `--ocsp-per-host must be an integer from 1 to 64, not "${bad}"`,
      );
    }
  });

  it('keeps the polite defaults (4 per host, 5 ms apart) unless configured', () => {
    expect(DEFAULT_OCSP_LIMITS).toEqual({ ocspPerHost: 4, ocspMinIntervalMs: 5 });
    expect(loadOcspLimits({})).toEqual(DEFAULT_OCSP_LIMITS);
    expect(loadOcspLimits({ REVWATCH_OCSP_PER_HOST: '8', REVWATCH_OCSP_INTERVAL_MS: '0' })).toEqual({
      ocspPerHost: 8,
      ocspMinIntervalMs: 0,
    });
    expect(() => loadOcspLimits({ REVWATCH_OCSP_INTERVAL_MS: 'fast' })).toThrow(ConfigError);
    const stack = (ctx: Record<string, string>) => readStackConfig((k) => ({ sender: 'r@ca.example', ...ctx })[k]);
    expect(stack({})).toMatchObject({ ocspPerHost: 4, ocspIntervalMs: 5 });
    expect(stack({ ocspPerHost: '16', ocspIntervalMs: '0' })).toMatchObject({ ocspPerHost: 16, ocspIntervalMs: 0 });
    expect(() => stack({ ocspPerHost: '100' })).toThrow('context "ocspPerHost" must be an integer from 1 to 64, not "100"');
  });

  it.each([
    [['--ocsp-per-host', '0'], /^revwatch: --ocsp-per-host must be an integer from 1 to 64, not "0"\n$/],
    [['--ocsp-interval-ms', 'soon'], /^revwatch: --ocsp-interval-ms must be an integer from 0 to 60000, not "soon"\n$/],
  ])('check %j exits 1 with one line and writes nothing', async (args, message) => {
    const home = join(mkdtempSync(join(tmpdir(), 'revwatch-limits-')), 'home');
    let stdout = '';
    let stderr = '';
    const code = await run(['--home', home, 'check', ...args], {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
      env: {},
      clock: new FakeClock(T0),
    });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(message);
    expect(existsSync(home)).toBe(false);
  });
});
