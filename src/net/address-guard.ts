/**
 * Which network addresses revwatch may connect to.
 *
 * Responder and CRL URLs come from certificates that anyone can craft, so by
 * default they must not reach into the machine's own networks: loopback,
 * private ranges, link-local (169.254.169.254 is the cloud metadata service),
 * CGNAT, multicast, IPv6 ULA and the like. The check is made on the address
 * actually connected to, after DNS, so a name that resolves to 127.0.0.1
 * cannot slip past it.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import ipaddr from 'ipaddr.js';

export class AddressRefusedError extends Error {
  readonly code = 'EREVWATCH_ADDRESS_REFUSED';
  constructor(message: string) {
    super(message);
    this.name = 'AddressRefusedError';
  }
}

/**
 * Returns why `ip` may not be contacted, or null when it is a public unicast
 * address. Only the 'unicast' range of ipaddr.js is allowed: everything else
 * (private, loopback, linkLocal, carrierGradeNat, uniqueLocal, multicast,
 * reserved, 6to4/teredo which can wrap private IPv4, ...) is refused.
 */
export function refusalReason(ip: string): string | null {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(ip);
  } catch {
    return `"${ip}" is not an IP address`;
  }
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  const range = addr.range();
  return range === 'unicast' ? null : `${ip} is a ${range} address`;
}

export interface GuardOptions {
  /** --allow-private-network: contact local CAs and test responders. */
  readonly allowPrivateNetwork: boolean;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A dns.lookup replacement for net.connect/tls.connect that drops refused
 * addresses, so no connection to them is ever attempted.
 */
export function guardedLookup(options: GuardOptions) {
  return (hostname: string, opts: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...opts, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as LookupAddress[];
      const allowed = options.allowPrivateNetwork ? list : list.filter((a) => refusalReason(a.address) === null);
      if (allowed.length === 0) {
        const reason = refusalReason(list[0]?.address ?? '') ?? 'no address';
        return callback(new AddressRefusedError(`refused to connect to ${hostname}: ${reason} (use --allow-private-network for local responders)`), '', 0);
      }
      if (opts.all) return callback(null, allowed);
      const first = allowed[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** Checks a URL's host when it is an IP literal, before any connection is made. */
export function literalRefusal(hostname: string, options: GuardOptions): string | null {
  if (options.allowPrivateNetwork) return null;
  const host = hostname.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(host)) return null;
  return refusalReason(host);
}
