/**
 * Which network addresses revwatch may connect to.
 *
 * Responder and CRL URLs come from certificates that anyone can craft, so by
 * default they must not reach into the machine's own networks: loopback,
 * private ranges, link-local, CGNAT, multicast, IPv6 ULA and the like. The
 * check is made on the address actually connected to, after DNS, so a name
 * that resolves to 127.0.0.1 cannot slip past it.
 *
 * `--allow-private-network` opens loopback and the private ranges (RFC 1918,
 * IPv6 unique-local), for local test CAs, and nothing else: link-local
 * (169.254.0.0/16, fe80::/10) and the cloud metadata services
 * (169.254.169.254, AWS's fd00:ec2::254) stay closed, because reaching them
 * from a URL in a certificate is how credentials leak.
 *
 * IPv6 forms that carry an IPv4 address are judged by that address
 * (IPv4-mapped ::ffff:0:0/96, the deprecated IPv4-compatible ::/96 of RFC
 * 4291 2.5.5.1, NAT64 64:ff9b::/96 of RFC 6052); tunnel forms whose IPv4
 * part names a relay rather than the host (6to4 2002::/16, RFC 3056; Teredo
 * 2001::/32, RFC 4380) are never contacted.
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

export interface GuardOptions {
  /** --allow-private-network: contact local CAs and test responders. */
  readonly allowPrivateNetwork: boolean;
}

/** The rule that refused an address. */
export type GuardRule = 'not-an-address' | 'loopback' | 'private' | 'link-local' | 'cloud-metadata' | 'special-purpose' | 'ipv6-tunnel';

export interface GuardRefusal {
  readonly rule: GuardRule;
  /** True when --allow-private-network would let the address through. */
  readonly openedByAllowPrivate: boolean;
  /** Names the address and the rule, e.g. "169.254.169.254 is the cloud metadata service (rule: cloud-metadata)". */
  readonly message: string;
}

/** Rules that --allow-private-network opens; every other refusal stands regardless. */
const OPENED_BY_ALLOW_PRIVATE = new Set<GuardRule>(['loopback', 'private']);

/** AWS's IPv6 service range (IMDS at fd00:ec2::254, DNS at ::23, NTP at ::123). */
const AWS_IPV6_SERVICES = ipaddr.parseCIDR('fd00:ec2::/32');
/** The IPv4 metadata address of AWS, GCP, Azure and OCI. */
const METADATA_V4 = '169.254.169.254';
/** RFC 8215 local-use NAT64 prefix: where the IPv4 part sits is up to the operator, so it cannot be judged. */
const LOCAL_NAT64 = ipaddr.parseCIDR('64:ff9b:1::/48');

type Embedding = { readonly form: string; readonly v4: ipaddr.IPv4; readonly tunnel: boolean };

/** The IPv4 address an IPv6 address carries, and in which form, if any. */
export function embeddedIpv4(v6: ipaddr.IPv6): Embedding | null {
  const w = v6.parts;
  const v4At = (hi: number, lo: number): ipaddr.IPv4 => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  if (v6.isIPv4MappedAddress()) return { form: 'an IPv4-mapped IPv6 address', v4: v6.toIPv4Address(), tunnel: false };
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0 && (w[6] !== 0 || w[7]! > 1)) {
    return { form: 'an IPv4-compatible IPv6 address', v4: v4At(w[6]!, w[7]!), tunnel: false };
  }
  if (w[0] === 0x64 && w[1] === 0xff9b && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0) {
    return { form: 'a NAT64 address (64:ff9b::/96)', v4: v4At(w[6]!, w[7]!), tunnel: false };
  }
  if (w[0] === 0x2002) return { form: 'a 6to4 address (2002::/16)', v4: v4At(w[1]!, w[2]!), tunnel: true };
  if (w[0] === 0x2001 && w[1] === 0) {
    // Teredo: the client's IPv4 is the last 32 bits, inverted (RFC 4380 4).
    return { form: 'a Teredo address (2001::/32)', v4: v4At(w[6]! ^ 0xffff, w[7]! ^ 0xffff), tunnel: true };
  }
  return null;
}

function refuse(rule: GuardRule, message: string): GuardRefusal {
  return { rule, openedByAllowPrivate: OPENED_BY_ALLOW_PRIVATE.has(rule), message: `${message} (rule: ${rule})` };
}

/**
 * The guard's verdict on one address, ignoring --allow-private-network:
 * null for a public unicast address, otherwise the rule that refuses it.
 */
export function classifyAddress(ip: string): GuardRefusal | null {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(dottedTailToHex(ip));
  } catch {
    return refuse('not-an-address', `"${ip}" is not an IP address`);
  }
  if (addr.kind() === 'ipv4') return classifyV4(addr as ipaddr.IPv4, ip);
  const v6 = addr as ipaddr.IPv6;
  if (v6.match(AWS_IPV6_SERVICES))
    return refuse('cloud-metadata', `${ip} is in fd00:ec2::/32, the AWS instance metadata and service range`);
  if (v6.match(LOCAL_NAT64))
    return refuse('special-purpose', `${ip} is a local-use NAT64 address (64:ff9b:1::/48) whose IPv4 part cannot be located`);
  const embedded = embeddedIpv4(v6);
  if (embedded) {
    const inner = classifyV4(embedded.v4, embedded.v4.toString());
    if (embedded.tunnel) {
      const what = inner ? `${embedded.v4.toString()}, ${inner.message}` : `${embedded.v4.toString()}`;
      return refuse('ipv6-tunnel', `${ip} is ${embedded.form} embedding ${what}; tunnel addresses are never contacted`);
    }
    if (!inner) return null;
    return refuse(
      inner.rule,
      `${ip} is ${embedded.form} embedding ${embedded.v4.toString()}: ${inner.message.replace(/ \(rule: [^)]*\)$/, '')}`,
    );
  }
  const range = v6.range();
  switch (range) {
    case 'unicast':
      return null;
    case 'loopback':
      return refuse('loopback', `${ip} is a loopback address`);
    case 'uniqueLocal':
      return refuse('private', `${ip} is a unique-local (private) address`);
    case 'linkLocal':
      return refuse('link-local', `${ip} is a link-local address`);
    default:
      return refuse('special-purpose', `${ip} is a ${range} address`);
  }
}

/**
 * "::127.0.0.1" → "::7f00:1". ipaddr.js reads any IPv6 text with a dotted
 * IPv4 tail as IPv4-mapped (::ffff:127.0.0.1), which would misname an
 * IPv4-compatible or NAT64 address; hex groups are read as written.
 */
function dottedTailToHex(ip: string): string {
  const m = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return ip;
  const [a, b, c, d] = [m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number];
  if ([a, b, c, d].some((n) => n > 255)) return ip;
  return `${m[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

function classifyV4(v4: ipaddr.IPv4, shown: string): GuardRefusal | null {
  if (v4.toString() === METADATA_V4) return refuse('cloud-metadata', `${shown} is the cloud instance metadata service`);
  const range = v4.range();
  switch (range) {
    case 'unicast':
      return null;
    case 'loopback':
      return refuse('loopback', `${shown} is a loopback address`);
    case 'private':
      return refuse('private', `${shown} is a private address`);
    case 'linkLocal':
      return refuse('link-local', `${shown} is a link-local address`);
    default:
      return refuse('special-purpose', `${shown} is a ${range} address`);
  }
}

/**
 * The guard's decision for one address under the given options: null when
 * it may be contacted, otherwise the refusal (address and rule named).
 */
export function guardDecision(ip: string, options: GuardOptions): GuardRefusal | null {
  const refusal = classifyAddress(ip);
  if (!refusal) return null;
  if (options.allowPrivateNetwork && refusal.openedByAllowPrivate) return null;
  return refusal;
}

/** The refusal message for a host, with the hint only when the flag would help. */
export function refusalMessage(host: string, refusal: GuardRefusal, options: GuardOptions): string {
  const hint = refusal.openedByAllowPrivate
    ? '; use --allow-private-network for local responders'
    : options.allowPrivateNetwork
      ? '; refused even with --allow-private-network'
      : '';
  return `refused to connect to ${host}: ${refusal.message}${hint}`;
}

/**
 * Why `ip` may not be contacted without --allow-private-network, or null for
 * a public unicast address. Kept for callers that only need the text.
 */
export function refusalReason(ip: string): string | null {
  return classifyAddress(ip)?.message ?? null;
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
      const allowed = list.filter((a) => guardDecision(a.address, options) === null);
      if (allowed.length === 0) {
        const refusal = guardDecision(list[0]?.address ?? '', options) ?? refuse('not-an-address', 'no address');
        return callback(new AddressRefusedError(refusalMessage(hostname, refusal, options)), '', 0);
      }
      if (opts.all) return callback(null, allowed);
      const first = allowed[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/** Checks a URL's host when it is an IP literal, before any connection is made. */
export function literalRefusal(hostname: string, options: GuardOptions): GuardRefusal | null {
  const host = hostname.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(host)) return null;
  return guardDecision(host, options);
}
