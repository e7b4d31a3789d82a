/**
 * The scheduled refresh of the CCADB disclosures in AWS (the planner runs it before planning): when the
 * last import is older than the interval, the report is downloaded from its public URL (configured; off
 * without one) and imported like `revwatch ccadb import` does.
 *
 * The CCADB is a remote party with its own faults. A download or parse failure is reported, not thrown:
 * the run goes on with the last good disclosure. A failing URL is not downloaded again on every run: after
 * n failures in a row the next try waits min(1 h x 2^(n-1), 24 h), and every answer says when the URL was
 * last good. The last good disclosure keeps answering; past DISCLOSURE_STALE_AFTER_MS (48 hours, the
 * window Let's Encrypt's CCADB prober allows itself, letsencrypt/boulder#8891) the result says it is stale.
 */
import type { Fetcher } from '../ports/index.js';
import { InputError } from '../errors.js';
import { DISCLOSURE_STALE_AFTER_MS } from '../rules/verdict.js';
import { parseAllCertificateRecords } from './report.js';
import type { Disclosures, ImportSummary } from '../ports/disclosures.js';

/** Refreshed daily: a disclosure must stay within DISCLOSURE_STALE_AFTER_MS of the CCADB even when one day's download fails. */
export const CCADB_REFRESH_INTERVAL_MS = 86_400_000;
/** How old the last good disclosure may be before it is called stale (letsencrypt/boulder#8891: 48 hours); the finding uses the same. */
export { DISCLOSURE_STALE_AFTER_MS };
const BACKOFF_FIRST_MS = 3_600_000;
const BACKOFF_MAX_MS = 86_400_000;
/** The report is about 10 MB today; the cap leaves room to grow without reading anything unbounded. */
const REPORT_MAX_BYTES = 256 * 1024 * 1024;

/** How long to wait after `failures` failures in a row before downloading again. */
export const refreshBackoffMs = (failures: number): number =>
  failures <= 0 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(failures - 1, 30));

interface Staleness {
  /** When the disclosures in use were imported (from anywhere); null when never. */
  readonly lastImportAt: number | null;
  /** The last import is older than DISCLOSURE_STALE_AFTER_MS. */
  readonly stale: boolean;
}

export type RefreshResult =
  | { readonly refreshed: false; readonly reason: 'fresh'; readonly lastImportAt: number }
  | ({
      readonly refreshed: false;
      readonly reason: 'failed' | 'backoff';
      readonly error: string;
      readonly failures: number;
      /** When this URL last gave a report that imported; null when never. */
      readonly lastGoodAt: number | null;
      /** When the next download will be tried. */
      readonly retryAt: number;
    } & Staleness)
  | ({ readonly refreshed: true; readonly disclosures: number; readonly skipped: number } & ImportSummary);

const iso = (ms: number | null): string => (ms === null ? 'never' : new Date(ms).toISOString());

/**
 * How old the disclosures in use are (the last import, from anywhere) and whether they are past
 * DISCLOSURE_STALE_AFTER_MS: what the AWS alarm watches. Never imported is stale only when a refresh URL is
 * configured (a download is expected and none has yet succeeded); with neither, nothing is disclosed to go stale.
 */
export function disclosureStaleness(
  lastImportAt: number | null,
  now: number,
  refreshExpected: boolean,
): { readonly ageMs: number | null; readonly stale: boolean } {
  if (lastImportAt === null) return { ageMs: null, stale: refreshExpected };
  const ageMs = Math.max(0, now - lastImportAt);
  return { ageMs, stale: ageMs > DISCLOSURE_STALE_AFTER_MS };
}

export async function refreshDisclosures(
  deps: { store: Disclosures; fetcher: Fetcher; now: number },
  url: string,
  intervalMs = CCADB_REFRESH_INTERVAL_MS,
): Promise<RefreshResult> {
  const { store, now } = deps;
  const last = await store.lastImport();
  if (last && now - last.at < intervalMs) return { refreshed: false, reason: 'fresh', lastImportAt: last.at };
  const staleness: Staleness = { lastImportAt: last?.at ?? null, stale: !last || now - last.at > DISCLOSURE_STALE_AFTER_MS };
  const state = await store.refreshState(url);
  if (state.failures > 0 && state.lastFailureAt !== null) {
    const retryAt = state.lastFailureAt + refreshBackoffMs(state.failures);
    if (now < retryAt)
      return {
        refreshed: false,
        reason: 'backoff',
        error: `${url} failed ${state.failures} time(s) in a row (last good ${iso(state.lastGoodAt)}; last error: ${state.lastError}); not tried again before ${iso(retryAt)}`,
        failures: state.failures,
        lastGoodAt: state.lastGoodAt,
        retryAt,
        ...staleness,
      };
  }
  const fail = async (error: string): Promise<RefreshResult> => {
    const failures = state.failures + 1;
    await store.putRefreshState({ ...state, failures, lastFailureAt: now, lastError: error });
    return {
      refreshed: false,
      reason: 'failed',
      error: `${error} (last good ${iso(state.lastGoodAt)})`,
      failures,
      lastGoodAt: state.lastGoodAt,
      retryAt: now + refreshBackoffMs(failures),
      ...staleness,
    };
  };
  const r = await deps.fetcher.fetch({ url, maxBytes: REPORT_MAX_BYTES, purpose: 'crl' });
  if (!r.ok) return fail(`could not download ${url}: ${r.message}`);
  let parsed: ReturnType<typeof parseAllCertificateRecords>;
  try {
    parsed = parseAllCertificateRecords(Buffer.from(r.body).toString('utf8'), url);
  } catch (err) {
    if (err instanceof InputError) return fail(err.message);
    throw err;
  }
  const summary = await store.replace(parsed.disclosures, now, url);
  await store.putRefreshState({ url, failures: 0, lastFailureAt: null, lastError: null, lastGoodAt: now });
  return { refreshed: true, disclosures: parsed.disclosures.length, skipped: parsed.skipped.length, ...summary };
}
