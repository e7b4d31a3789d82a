/**
 * The weekly refresh of the CCADB disclosures in AWS (the planner runs it
 * before planning): when the last import is a week old or more, the report
 * is downloaded from its public URL (configured; off without one) and
 * imported like `revwatch ccadb import` does. A download or parse failure is
 * reported, not thrown: the run goes on with the disclosures it has, and the
 * next planner run tries again.
 */
import type { Fetcher } from '../ports/index.js';
import { InputError } from '../errors.js';
import { parseAllCertificateRecords } from './report.js';
import type { Disclosures, ImportSummary } from '../ports/disclosures.js';

export const CCADB_REFRESH_INTERVAL_MS = 7 * 86_400_000;
/** The report is about 10 MB today; the cap leaves room to grow without reading anything unbounded. */
const REPORT_MAX_BYTES = 256 * 1024 * 1024;

export type RefreshResult =
  | { readonly refreshed: false; readonly reason: 'fresh'; readonly lastImportAt: number }
  | { readonly refreshed: false; readonly reason: 'failed'; readonly error: string }
  | ({ readonly refreshed: true; readonly disclosures: number; readonly skipped: number } & ImportSummary);

export async function refreshDisclosures(
  deps: { store: Disclosures; fetcher: Fetcher; now: number },
  url: string,
  intervalMs = CCADB_REFRESH_INTERVAL_MS,
): Promise<RefreshResult> {
  const last = await deps.store.lastImport();
  if (last && deps.now - last.at < intervalMs) return { refreshed: false, reason: 'fresh', lastImportAt: last.at };
  const r = await deps.fetcher.fetch({ url, maxBytes: REPORT_MAX_BYTES, purpose: 'crl' });
  if (!r.ok) return { refreshed: false, reason: 'failed', error: `could not download ${url}: ${r.message}` };
  let parsed;
  try {
    parsed = parseAllCertificateRecords(Buffer.from(r.body).toString('utf8'), url);
  } catch (err) {
    if (err instanceof InputError) return { refreshed: false, reason: 'failed', error: err.message };
    throw err;
  }
  const summary = await deps.store.replace(parsed.disclosures, deps.now, url);
  return { refreshed: true, disclosures: parsed.disclosures.length, skipped: parsed.skipped.length, ...summary };
}
