/**
 * The address guard's decision as a pure function: address in, verdict out.
 * Nothing here opens a socket, so a wrong guard cannot send a packet.
 */
import { describe, expect, it } from 'vitest';
import { classifyAddress, guardDecision, literalRefusal, refusalMessage, type GuardRule } from '../../../src/adapters/net/address-guard.js';

const closed = { allowPrivateNetwork: false };
const open = { allowPrivateNetwork: true };

describe('address guard decision', () => {
  // [address, rule without the flag, allowed with --allow-private-network]
  const table: [string, GuardRule | null, boolean][] = [
    // Public unicast, and forms that embed a public IPv4 host.
    ['8.8.8.8', null, true],
    ['2606:4700:4700::1111', null, true],
    ['::ffff:8.8.8.8', null, true],
    ['64:ff9b::808:808', null, true],
    // Loopback and private: opened by the flag.
    ['127.0.0.1', 'loopback', true],
    ['127.255.0.9', 'loopback', true],
    ['::1', 'loopback', true],
    ['10.0.0.1', 'private', true],
    ['172.31.255.255', 'private', true],
    ['192.168.0.10', 'private', true],
    ['fd12:3456::1', 'private', true],
    // IPv6 forms embedding a loopback or private IPv4 are judged by the IPv4.
    ['::127.0.0.1', 'loopback', true],
    ['::7f00:1', 'loopback', true],
    ['::10.0.0.1', 'private', true],
    ['::ffff:127.0.0.1', 'loopback', true],
    ['::ffff:7f00:1', 'loopback', true],
    ['::ffff:192.168.1.1', 'private', true],
    ['64:ff9b::127.0.0.1', 'loopback', true],
    ['64:ff9b::a00:1', 'private', true],
    // Metadata and link-local: never, flag or not, in any form.
    ['169.254.169.254', 'cloud-metadata', false],
    ['::ffff:169.254.169.254', 'cloud-metadata', false],
    ['::169.254.169.254', 'cloud-metadata', false],
    ['64:ff9b::a9fe:a9fe', 'cloud-metadata', false],
    ['fd00:ec2::254', 'cloud-metadata', false],
    ['fd00:ec2::23', 'cloud-metadata', false],
    ['169.254.1.1', 'link-local', false],
    ['::ffff:169.254.1.1', 'link-local', false],
    ['fe80::1', 'link-local', false],
    ['fe80::a9fe:a9fe', 'link-local', false],
    // Tunnels: the IPv4 part is a relay, never contacted.
    ['2002:7f00:1::1', 'ipv6-tunnel', false],
    ['2002:a9fe:a9fe::1', 'ipv6-tunnel', false],
    ['2002:0808:0808::1', 'ipv6-tunnel', false],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'ipv6-tunnel', false], // Teredo, client 127.0.0.1
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'ipv6-tunnel', false], // Teredo, client 192.0.2.45
    ['64:ff9b:1::a00:1', 'special-purpose', false],
    // Other special-purpose ranges.
    ['0.0.0.0', 'special-purpose', false],
    ['::', 'special-purpose', false],
    ['100.64.0.1', 'special-purpose', false],
    ['100.100.100.200', 'special-purpose', false],
    ['224.0.0.1', 'special-purpose', false],
    ['255.255.255.255', 'special-purpose', false],
    ['ff02::1', 'special-purpose', false],
    ['not-an-ip', 'not-an-address', false],
  ];

  it.each(table)('%s: rule %s, allowed with --allow-private-network: %s', (ip, rule, allowedWithFlag) => {
    const refusal = classifyAddress(ip);
    expect(refusal?.rule ?? null).toBe(rule);
    expect(guardDecision(ip, closed)?.rule ?? null).toBe(rule);
    expect(guardDecision(ip, open) === null).toBe(allowedWithFlag);
    if (refusal) {
      // The message names the address and the rule.
      expect(refusal.message).toContain(ip);
      expect(refusal.message).toContain(`(rule: ${rule})`);
    }
  });

  it('names the embedded IPv4 address and its range', () => {
    expect(classifyAddress('::127.0.0.1')!.message).toBe(
      '::127.0.0.1 is an IPv4-compatible IPv6 address embedding 127.0.0.1: 127.0.0.1 is a loopback address (rule: loopback)',
    );
    expect(classifyAddress('2001:0:4136:e378:8000:63bf:80ff:fffe')!.message).toContain(
      'embedding 127.0.0.1, 127.0.0.1 is a loopback address',
    );
  });

  it('judges URL literals the same way, brackets and all', () => {
    expect(literalRefusal('[::7f00:1]', closed)?.rule).toBe('loopback');
    expect(literalRefusal('[::7f00:1]', open)).toBeNull();
    expect(literalRefusal('[fd00:ec2::254]', open)?.rule).toBe('cloud-metadata');
    expect(literalRefusal('169.254.169.254', open)?.rule).toBe('cloud-metadata');
    expect(literalRefusal('crl.example', closed)).toBeNull();
  });

  it('says when the flag would help and when nothing would', () => {
    expect(refusalMessage('127.0.0.1', classifyAddress('127.0.0.1')!, closed)).toBe(
      'refused to connect to 127.0.0.1: 127.0.0.1 is a loopback address (rule: loopback); use --allow-private-network for local responders',
    );
    expect(refusalMessage('169.254.169.254', classifyAddress('169.254.169.254')!, open)).toBe(
      'refused to connect to 169.254.169.254: 169.254.169.254 is the cloud instance metadata service (rule: cloud-metadata); refused even with --allow-private-network',
    );
  });
});
