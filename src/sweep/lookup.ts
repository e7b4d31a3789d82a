/**
 * `revwatch lookup`: what the revocation index knows of serials, answered
 * from the index alone: listed or not, where, since when (the bracket of two
 * sweeps and the snapshot that first listed it), the claimed time and reason
 * (every claim, in order), and whether it was removed.
 *
 * Serials are grouped by issuer key, so each issuer's lookup file is read
 * once; an index with `recordsOfMany` (the local files) matches every serial
 * against each issuer's fingerprint table in one merge and reads only the
 * lines that match. Each URL's snapshot list is read once. The answers are
 * made and printed one at a time (cli/lookup-run.ts streams them).
 */
import { reasonName } from '../pki/oids.js';
import type { IndexRecord, IssuerInfo, Listing, RevocationIndexStore, SnapshotRef, SweepState } from '../ports/revocation-index.js';
import { iso } from '../time.js';
import { snapshotAt } from './revocation-index.js';

export interface LookupQuery {
  /** What the user gave: the serial, or the certificate file it came from. */
  readonly input: string;
  readonly serial: string;
  /** The issuer keys to search; null for every one the index holds. */
  readonly issuerKeys: readonly string[] | null;
}

export interface SweepRef {
  readonly sweep: number;
  /** When that sweep read the URL (its snapshot's time for a change; the sweep's start otherwise). */
  readonly at: string | null;
  readonly sha256: string | null;
}

export interface ListingAnswer {
  readonly url: string;
  readonly listed: boolean;
  readonly firstSeen: SweepRef & { readonly thisUpdate: string | null; readonly crlNumber: string | null };
  /** The last sweep that read this URL without the serial; null when first seen on the URL's first read. */
  readonly notListedBefore: SweepRef | null;
  readonly removed: SweepRef | null;
}

export interface ClaimAnswer {
  readonly url: string;
  readonly revocationDate: string;
  readonly reasonCode: number | null;
  readonly reason: string | null;
  readonly sweep: number;
}

export interface IssuerAnswer {
  readonly issuerKey: string;
  readonly issuer: IssuerInfo | null;
  readonly listings: readonly ListingAnswer[];
  readonly claims: readonly ClaimAnswer[];
}

export interface LookupAnswer {
  readonly input: string;
  readonly serial: string;
  /** Listed now on some swept CRL (its latest read). */
  readonly listed: boolean;
  /** Ever listed. */
  readonly known: boolean;
  readonly issuers: readonly IssuerAnswer[];
}

/**
 * What a lookup reads of an index. One that answers many serials across many issuers at once, and many URLs'
 * snapshots at once (the local files), is asked so; others issuer by issuer and URL by URL.
 */
export type LookupIndex = RevocationIndexStore & {
  recordsOfMany?(issuerKeys: readonly string[], serials: readonly string[]): Promise<Map<string, Map<string, IndexRecord>>>;
  snapshotsOfMany?(urls: readonly string[]): Promise<Map<string, SnapshotRef[]>>;
};

export async function lookupSerials(index: LookupIndex, state: SweepState, queries: readonly LookupQuery[]): Promise<LookupAnswer[]> {
  return [...(await prepareLookup(index, state, queries)).answers()];
}

/** A lookup whose index reads are done: its answers are made one at a time, in the order asked. */
export interface PreparedLookup {
  answers(): Iterable<LookupAnswer>;
  /**
   * The same answers as JSON, each the same text as JSON.stringify of its answer, written straight from the
   * index's records (no answer objects: 100,000 of them were a third of a lookup's time, with their garbage),
   * their repeated parts (an issuer, a URL's snapshot at a sweep) spelled once.
   */
  answersJson(): Iterable<string>;
  /**
   * The JSON document of all the answers (an array, one answer a line: "[\n" answers joined by ",\n", "\n]\n"),
   * in pieces of about `chunkChars` characters, each made by one join.
   */
  jsonDocument(chunkChars: number): Iterable<string>;
}

/**
 * Reads what the index holds of every serial asked (one pass per issuer), and every URL's snapshots once;
 * the answers are then made without awaiting, and without holding them all (100,000 answers are ~50 MB
 * as objects). The sweep references an answer repeats (a URL's snapshot at a sweep, an issuer) are made
 * once and shared.
 */
export async function prepareLookup(index: LookupIndex, state: SweepState, queries: readonly LookupQuery[]): Promise<PreparedLookup> {
  const allKeys = await index.issuerKeys();
  let found: Map<string, Map<string, IndexRecord>>;
  if (index.recordsOfMany) {
    // Every serial against every issuer asked, in one pass per issuer (a serial without an issuer asks them all);
    // recordsOfMany drops repeated serials itself.
    const keys = queries.some((q) => q.issuerKeys === null) ? allKeys : [...new Set(queries.flatMap((q) => q.issuerKeys ?? []))];
    found = await index.recordsOfMany(
      keys,
      queries.map((q) => q.serial),
    );
  } else {
    const byIssuer = new Map<string, Set<string>>();
    for (const q of queries) {
      for (const key of q.issuerKeys ?? allKeys) {
        const set = byIssuer.get(key) ?? new Set<string>();
        set.add(q.serial);
        byIssuer.set(key, set);
      }
    }
    found = new Map();
    for (const [key, serials] of byIssuer) found.set(key, await index.records(key, [...serials]));
  }
  // The issuers holding each serial, in issuer-key order: a query without an issuer then costs its hits, not every issuer.
  const holders = new Map<string, string[]>();
  for (const key of allKeys) {
    for (const serial of found.get(key)?.keys() ?? []) {
      const list = holders.get(serial);
      if (list) list.push(key);
      else holders.set(serial, [key]);
    }
  }
  // Every URL's snapshots read once, up front: the answers below are then built without awaiting.
  const urls = new Set<string>();
  const listingLists = new Set<readonly Listing[]>();
  for (const records of found.values()) {
    for (const r of records.values()) {
      if (listingLists.has(r.listings)) continue;
      listingLists.add(r.listings);
      for (const l of r.listings) urls.add(l.url);
    }
  }
  let snapshots: Map<string, SnapshotRef[]>;
  if (index.snapshotsOfMany) snapshots = await index.snapshotsOfMany([...urls]);
  else {
    snapshots = new Map();
    for (const url of urls) snapshots.set(url, await index.snapshots(url));
  }
  const snapshotsOf = (url: string): SnapshotRef[] => snapshots.get(url) ?? [];
  const sweepStarts = new Map(state.sweeps.map((s) => [s.sweep, s.startedAt]));
  const sweepStart = (sweep: number): number | null => sweepStarts.get(sweep) ?? null;
  // A URL's reference at a sweep, and its first-seen form, made once per (URL, sweep) and shared by every answer.
  const refs = new Map<string, Map<number, SweepRef>>();
  const firsts = new Map<string, Map<number, ListingAnswer['firstSeen']>>();
  const ref = (url: string, sweep: number): SweepRef => {
    const byUrl = memo(refs, url, () => new Map<number, SweepRef>());
    let made = byUrl.get(sweep);
    if (!made) {
      const snaps = snapshotsOf(url);
      const exact = snaps.find((s) => s.sweep === sweep);
      const stands = exact ?? snapshotAt(snaps, sweep);
      const at = exact?.at ?? sweepStart(sweep);
      made = { sweep, at: at === null ? null : iso(at), sha256: stands?.sha256 ?? null };
      byUrl.set(sweep, made);
    }
    return made;
  };
  const firstSeen = (url: string, sweep: number): ListingAnswer['firstSeen'] => {
    const byUrl = memo(firsts, url, () => new Map<number, ListingAnswer['firstSeen']>());
    let made = byUrl.get(sweep);
    if (!made) {
      const first = ref(url, sweep);
      const snap = snapshotsOf(url).find((s) => s.sweep === sweep && s.sha256 === first.sha256);
      made = { ...first, thisUpdate: snap ? iso(snap.thisUpdate) : null, crlNumber: snap?.crlNumber ?? null };
      byUrl.set(sweep, made);
    }
    return made;
  };

  function* answers(): Iterable<LookupAnswer> {
    for (const q of queries) {
      const issuers: IssuerAnswer[] = [];
      for (const key of q.issuerKeys ?? holders.get(q.serial) ?? []) {
        const r = found.get(key)?.get(q.serial);
        if (!r) continue;
        const listings: ListingAnswer[] = r.listings.map((l) => ({
          url: l.url,
          listed: l.removed === null,
          firstSeen: firstSeen(l.url, l.firstSeen),
          notListedBefore: l.notListedAt === null ? null : ref(l.url, l.notListedAt),
          removed: l.removed === null ? null : ref(l.url, l.removed),
        }));
        const claims = r.claims.map((c) => ({
          url: c.url,
          revocationDate: iso(c.revocationDate),
          reasonCode: c.reasonCode,
          reason: c.reasonCode === null ? null : reasonName(c.reasonCode),
          sweep: c.sweep,
        }));
        issuers.push({ issuerKey: key, issuer: state.issuers[key] ?? null, listings, claims });
      }
      yield {
        input: q.input,
        serial: q.serial,
        listed: issuers.some((i) => i.listings.some((l) => l.listed)),
        known: issuers.length > 0,
        issuers,
      };
    }
  }

  // JSON of the shared parts, by identity: an issuer's block and a (URL, sweep) reference are stringified once.
  // Key order is the answer objects' own above, so the text is JSON.stringify's.
  const spelled = new Map<object, string>();
  const once = (value: object): string => memo(spelled, value, () => JSON.stringify(value));
  const urlJson = new Map<string, string>();
  const quoted = (url: string): string => memo(urlJson, url, () => JSON.stringify(url));
  const issuerJson = new Map<string, string>();
  const issuerBlock = (key: string): string =>
    memo(issuerJson, key, () => {
      const issuer = state.issuers[key];
      return `{"issuerKey":${JSON.stringify(key)},"issuer":${issuer ? JSON.stringify(issuer) : 'null'},"listings":[`;
    });
  // A listing list's text, by identity: an index may give records listed alike one list (the local files do).
  const listingsJson = new Map<readonly Listing[], { text: string; listed: boolean }>();
  const listingsOf = (listings: readonly Listing[]): { text: string; listed: boolean } =>
    memo(listingsJson, listings, () => {
      let text = '';
      let listed = false;
      for (let m = 0; m < listings.length; m++) {
        const l = listings[m]!;
        listed ||= l.removed === null;
        text += `${m ? ',' : ''}{"url":${quoted(l.url)},"listed":${l.removed === null},"firstSeen":${once(firstSeen(l.url, l.firstSeen))},"notListedBefore":${l.notListedAt === null ? 'null' : once(ref(l.url, l.notListedAt))},"removed":${l.removed === null ? 'null' : once(ref(l.url, l.removed))}}`;
      }
      return { text: `${text}],"claims":[`, listed };
    });
  /** One issuer's part of an answer, as pieces pushed onto `parts`; whether it lists the serial now. */
  const recordJson = (key: string, r: IndexRecord, parts: string[]): boolean => {
    const { text, listed } = listingsOf(r.listings);
    parts.push(issuerBlock(key), text);
    for (let m = 0; m < r.claims.length; m++) {
      const c = r.claims[m]!;
      if (m) parts.push(',');
      parts.push(claimHead(c.url), iso(c.revocationDate), claimTail(c.reasonCode, c.sweep));
    }
    parts.push(']}');
    return listed;
  };
  // A claim's text around its date, made once per URL and once per (reason, sweep).
  const claimHeads = new Map<string, string>();
  const claimHead = (url: string): string => memo(claimHeads, url, () => `{"url":${quoted(url)},"revocationDate":"`);
  const claimTails = new Map<number | null, Map<number, string>>();
  const claimTail = (reasonCode: number | null, sweep: number): string =>
    memo(
      memo(claimTails, reasonCode, () => new Map<number, string>()),
      sweep,
      () => {
        const reason = reasonName(reasonCode);
        return `","reasonCode":${reasonCode},"reason":${reason === null ? 'null' : JSON.stringify(reason)},"sweep":${sweep}}`;
      },
    );
  /**
   * One answer's JSON as pieces pushed onto `parts` (joined once, by the caller: 100,000 answers concatenated
   * piece by piece made a string node per piece, then flattened and collected).
   */
  const answerJson = (q: LookupQuery, parts: string[]): void => {
    const serial = JSON.stringify(q.serial);
    const head = parts.length;
    parts.push('{"input":', q.input === q.serial ? serial : JSON.stringify(q.input), ',"serial":', serial, '', ',"issuers":[');
    let listed = false;
    let known = false;
    for (const key of q.issuerKeys ?? holders.get(q.serial) ?? []) {
      const r = found.get(key)?.get(q.serial);
      if (!r) continue;
      if (known) parts.push(',');
      listed = recordJson(key, r, parts) || listed;
      known = true;
    }
    parts[head + 4] = `,"listed":${listed},"known":${known}`;
    parts.push(']}');
  };
  function* answersJson(): Iterable<string> {
    for (const q of queries) {
      const parts: string[] = [];
      answerJson(q, parts);
      yield parts.join('');
    }
  }
  function* jsonDocument(chunkChars: number): Iterable<string> {
    let parts: string[] = ['['];
    let chars = 0;
    for (let i = 0; i < queries.length; i++) {
      const before = parts.length;
      parts.push(i ? ',\n' : '\n');
      answerJson(queries[i]!, parts);
      for (let k = before; k < parts.length; k++) chars += parts[k]!.length;
      if (chars >= chunkChars) {
        yield parts.join('');
        parts = [];
        chars = 0;
      }
    }
    parts.push('\n]\n');
    yield parts.join('');
  }
  return { answers, answersJson, jsonDocument };
}

/** The value kept under `key`, made and kept on first use. */
function memo<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** The issuer keys whose disclosed CA certificates have this Subject Key Identifier (a certificate's AKI). */
export function issuerKeysByKeyId(state: SweepState, keyIdHex: string): string[] {
  return Object.values(state.issuers)
    .filter((i) => i.subjectKeyId?.toLowerCase() === keyIdHex.toLowerCase())
    .map((i) => i.issuerKey);
}

/** The issuer key named by a CA certificate's SHA-256 (or the issuer key itself); null when the index knows neither. */
export function issuerKeyBySha256(state: SweepState, sha256: string): string | null {
  const hex = sha256.toLowerCase();
  if (state.issuers[hex]) return hex;
  return Object.values(state.issuers).find((i) => i.caSha256.includes(hex))?.issuerKey ?? null;
}

export function formatLookup(answers: readonly LookupAnswer[]): string {
  const lines: string[] = [];
  for (const a of answers) {
    const label = a.input === a.serial ? a.serial : `${a.input} (serial ${a.serial})`;
    if (!a.known) {
      lines.push(`${label}: not listed on any swept CRL`);
      continue;
    }
    lines.push(`${label}: ${a.listed ? 'LISTED' : 'no longer listed'}`);
    for (const i of a.issuers) {
      for (const l of i.listings) {
        const since = l.notListedBefore
          ? `first seen by sweep ${l.firstSeen.sweep} at ${l.firstSeen.at}, not listed at sweep ${l.notListedBefore.sweep} (${l.notListedBefore.at})`
          : `listed since at least sweep ${l.firstSeen.sweep} at ${l.firstSeen.at} (the first read of this URL)`;
        lines.push(
          `  ${l.url}: ${since}; CRL ${l.firstSeen.sha256} thisUpdate ${l.firstSeen.thisUpdate} crlNumber ${l.firstSeen.crlNumber ?? '-'}`,
        );
        if (l.removed) lines.push(`    removed: first read without it by sweep ${l.removed.sweep} at ${l.removed.at}`);
      }
      for (const c of i.claims)
        lines.push(`  claimed revocation ${c.revocationDate}, reason ${c.reason ?? 'none given'} (from sweep ${c.sweep})`);
    }
  }
  return lines.join('\n');
}
