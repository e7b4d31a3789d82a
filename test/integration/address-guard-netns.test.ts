/**
 * The address guard end to end, where a failing guard could otherwise
 * connect: run inside a loopback-only network namespace (`unshare -n`, with
 * `ip link set lo up`), in which the metadata and private addresses exist
 * only on the namespace's own loopback interface. Skipped, with the reason,
 * where unshare is unavailable.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '../..');
const probe = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
const available = probe.status === 0;
if (!available)
  console.warn(
    `address-guard-netns: skipped, cannot create a network namespace (unshare -n: ${(probe.stderr || probe.error?.message || '').trim()})`,
  );
const suite = available ? describe : describe.skip;

suite('address guard inside a loopback-only network namespace', () => {
  it('never reaches metadata or link-local addresses, even with --allow-private-network; the flag opens private and loopback only', () => {
    const setup = [
      'set -e',
      'ip link set lo up',
      'ip addr add 169.254.169.254/32 dev lo',
      'ip addr add 169.254.10.10/32 dev lo',
      'ip addr add 10.0.0.1/32 dev lo',
      'ip -6 addr add fd00:ec2::254/128 dev lo nodad',
      `exec node --import tsx ${JSON.stringify(join(ROOT, 'test/helpers/guard-netns-probe.ts'))}`,
    ].join('\n');
    const r = spawnSync('unshare', ['-n', 'sh', '-c', setup], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, REVWATCH_IN_NETNS: '1' },
      timeout: 110_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const { results, hits } = JSON.parse(r.stdout) as { results: Record<'default' | 'allow', Record<string, string>>; hits: string[] };

    for (const mode of ['default', 'allow'] as const) {
      // The general fetcher and the OCSP client alike.
      for (const via of ['', 'ocsp ']) {
        for (const url of ['http://169.254.169.254/', 'http://[::ffff:169.254.169.254]/', 'http://[fd00:ec2::254]/']) {
          expect(results[mode][`${via}${url}`], `${mode} ${via}${url}`).toMatch(/^refused-address: .*rule: cloud-metadata/);
        }
        expect(results[mode][`${via}http://169.254.10.10/`]).toMatch(/^refused-address: .*169\.254\.10\.10.*rule: link-local/);
      }
    }
    expect(results.allow['ocsp http://10.0.0.1/']).toBe('ok');
    expect(results.default['ocsp http://10.0.0.1/']).toMatch(/^refused-address: /);
    expect(results.allow['http://169.254.169.254/']).toContain('refused even with --allow-private-network');
    for (const url of ['http://10.0.0.1/', 'http://127.0.0.1/', 'http://[::7f00:1]/']) {
      expect(results.default[url], url).toMatch(/^refused-address: /);
    }
    expect(results.default['http://[::7f00:1]/']).toMatch(/IPv4-compatible IPv6 address embedding 127\.0\.0\.1.*rule: loopback/);
    expect(results.allow['http://10.0.0.1/']).toBe('ok');
    expect(results.allow['http://127.0.0.1/']).toBe('ok');
    // The server saw exactly the allowed fetches (each once through each client), nothing on a refused address.
    expect(hits.sort()).toEqual(['10.0.0.1', '127.0.0.1', '10.0.0.1', '127.0.0.1'].map((a) => `::ffff:${a}`).sort());
  });
});
