/**
 * The core's ports, in its own words: every interface the services need from
 * the outside world, and the types those interfaces carry. Clock and Fetcher
 * are here; the store, mail and run ports are in src/ports/ and re-exported.
 *
 * Layering (arrows point down; test/unit/architecture.test.ts enforces it):
 *   cli.ts, src/cli/          parse, call one service, print
 *   src/runtime/              composition root: picks and opens adapters
 *   src/adapters/aws|local|memory   implement the ports (SDKs, dynalite, files)
 *   check, notify, report     services: import ports, never an adapter
 *   store (layout), net       key layout; the HTTP fetchers
 *   ports                     this module
 *   rules, pki, domain, util  pure functions and types
 * Services never import an SDK, read process.env, or ask the system for the time.
 */

/** Time. Only SystemClock reads the real clock; tests use FakeClock. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export interface FetchRequest {
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly body?: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** Refuse bodies larger than this many bytes (checked on Content-Length and while streaming). */
  readonly maxBytes: number;
  /** Conditional GET validators from the previous fetch (RFC 9110 13.1). */
  readonly etag?: string | null;
  readonly lastModified?: string | null;
  /**
   * What is fetched; picks the fetcher's overall deadline for it (a CRL may be
   * hundreds of MB, an OCSP answer is a few KB). Defaults to 'other'.
   */
  readonly purpose?: 'crl' | 'ocsp' | 'other';
  /** Overall deadline for this fetch in ms (all attempts, redirects and the body); overrides the purpose's. */
  readonly deadlineMs?: number;
}

export type FetchFailureKind =
  | 'bad-url'
  | 'unsupported-scheme'
  | 'refused-address'
  | 'timeout'
  | 'network'
  | 'too-large'
  | 'http-status'
  | 'redirect-limit';

export interface FetchFailure {
  readonly ok: false;
  readonly kind: FetchFailureKind;
  readonly message: string;
  readonly url: string;
  readonly status?: number;
  readonly attempts: number;
}

export interface FetchSuccess {
  readonly ok: true;
  readonly status: number;
  /** The URL finally answered, after redirects. */
  readonly url: string;
  readonly body: Buffer;
  /** SHA-256 of the body, computed while it streamed in: the evidence hash. */
  readonly sha256: string;
  /** True for 304 Not Modified: `body` is empty and the previous copy stands. */
  readonly notModified: boolean;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly contentType: string | null;
  readonly redirects: number;
  readonly attempts: number;
}

export type FetchResult = FetchSuccess | FetchFailure;

/** HTTP for probes. Remote faults come back as FetchFailure; only programming errors throw. */
export interface Fetcher {
  fetch(request: FetchRequest): Promise<FetchResult>;
}

/**
 * Where the static dashboard (report/site.ts) is published: in AWS, the
 * evidence bucket's site/ prefix, after each weekly digest.
 */
export interface SitePublisher {
  /** Writes every page under its relative path, replacing the previous version of each. */
  publish(files: readonly { readonly path: string; readonly bytes: Uint8Array }[]): Promise<void>;
}

export type * from './store.js';
export type * from './mail.js';
export type * from './runs.js';
