/**
 * Untrusted text printed for people: a CDP URL carrying ESC, BEL, a newline
 * and a C1 control must reach the terminal escaped, in `check` and `status`
 * text output alike (a raw ESC retitles or clears the terminal; a raw newline
 * forges an output line). The CLI's run() in-process, a CDP on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { FaultServer } from '../helpers/fault-server.js';

const DAY = 86_400_000;
/** Anything a terminal acts on, besides the line feeds and tabs revwatch's own layout uses. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const cli = (argv: string[]): Promise<CliResult> => runCli(argv, { env: { REVWATCH_CRL_DEADLINE_MS: '3000' } });

describe('untrusted text in terminal output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-terminal-'));
  const base = ['--home', join(dir, 'home'), '--allow-private-network'];
  const server = new FaultServer();
  let hostileUrl = '';

  beforeAll(async () => {
    const now = Date.now();
    const ca = await LocalCa.create({ name: 'Terminal Test CA', notBefore: now - 30 * DAY, notAfter: now + 365 * DAY });
    await server
      .route('/*', (_req, res) => {
        res.statusCode = 404;
        res.end();
      })
      .start();
    // ESC ]0; sets the window title, BEL ends it, ESC [2J clears the screen, then a forged line, then a C1 CSI.
    hostileUrl = `${server.url('/crl')}\u001b]0;pwned\u0007\u001b[2J\ncould not read nothing: all good\u009b31m.crl`;
    const leaf = await ca.issue({ subject: 'CN=escape.example', notBefore: now - DAY, notAfter: now + 60 * DAY, crlUrls: [hostileUrl] });
    writeFileSync(join(dir, 'leaf.der'), leaf.info.der);
    writeFileSync(join(dir, 'ca.der'), ca.info.der);
    const r = await cli([
      ...base,
      'track',
      join(dir, 'leaf.der'),
      '--issuer',
      join(dir, 'ca.der'),
      '--case',
      'escapes',
      '--reported-at',
      new Date(now - DAY).toISOString(),
      '--reason',
      'key-compromise',
    ]);
    expect(r.code, r.stderr).toBe(0);
  });

  afterAll(async () => {
    await server.stop();
  });

  it('check prints the URL escaped, on its own line', async () => {
    const r = await cli([...base, 'check']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
    expect(r.stdout).toContain('\\x1b]0;pwned\\x07\\x1b[2J\\ncould not read nothing: all good\\x9b31m.crl');
    // The forged line is not a line of its own.
    expect(r.stdout.split('\n').some((l) => l.startsWith('could not read nothing'))).toBe(false);
    // JSON keeps the value itself, escaped as JSON does.
    const json = await cli([...base, '--json', 'status', '--case', 'escapes']);
    const parsed = JSON.parse(json.stdout) as { cases: { certificates: { sources: { url: string }[] }[] }[] };
    expect(parsed.cases[0]!.certificates[0]!.sources[0]!.url).toBe(hostileUrl);
  });

  it('status text output carries no raw control character', async () => {
    const r = await cli([...base, 'status', '--case', 'escapes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(RAW_CONTROL);
  });
});
