/**
 * The imported CCADB disclosures (where each CA publishes its CRLs): what the
 * checks, the status and the reports look up, and what `ccadb import` and the
 * planner's daily refresh replace. src/ccadb/store.ts implements it over the
 * table; the runtime hands it out as this interface.
 */
import type { Disclosure } from '../ccadb/report.js';
import type { DisclosedCaCertificate, DisclosedCaCertificateLookup, KeptCaCertificate } from '../ccadb/issuers.js';

export type { Disclosure };

export interface StoredDisclosure extends Disclosure {
  /** When the import that wrote this disclosure ran (epoch ms). */
  readonly importedAt: number;
}

export interface DisclosureChange {
  /** When the import saw it (epoch ms). */
  readonly at: number;
  readonly fullCrl: string | null;
  /** Every full CRL disclosed (absent in entries written before V5: fullCrl was the one). */
  readonly fullCrls?: readonly string[];
  readonly partitionedCrls: readonly string[];
  /** The CA left the report. */
  readonly removed: boolean;
}

/** How the scheduled download of a CCADB report URL has been going (ccadb/refresh.ts): its back-off. */
export interface RefreshState {
  readonly url: string;
  /** Failed downloads (or unreadable reports) in a row since the last good one. */
  readonly failures: number;
  readonly lastFailureAt: number | null;
  readonly lastError: string | null;
  /** When a download from this URL last imported (epoch ms); null when never. */
  readonly lastGoodAt: number | null;
}

export interface ImportSummary {
  readonly added: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly removed: number;
}

/** What the checks read: the disclosures that may cover a certificate. */
export interface DisclosureLookup {
  byKeyId(subjectKeyIdHex: string): Promise<StoredDisclosure[]>;
  bySubjectName(nameHashHex: string): Promise<StoredDisclosure[]>;
  /** When the disclosures were last imported; null when never (then no certificate has any to look up). */
  lastImport(): Promise<{ at: number; source: string } | null>;
}

/** The lookups and the import's writes: what the runtime gives a command or a handler. */
export interface Disclosures extends DisclosureLookup, DisclosedCaCertificateLookup {
  /** Every CA's current disclosure. */
  current(): Promise<StoredDisclosure[]>;
  /** What changed for one CA certificate (by its SHA-256), oldest first. */
  history(sha256: string): Promise<DisclosureChange[]>;
  /** Replaces the current disclosures with an import's, appending what changed to the history. */
  replace(disclosures: readonly Disclosure[], importedAt: number, source?: string): Promise<ImportSummary>;
  /** Keeps the CA certificates of the "All Certificate PEMs" report by fingerprint, with their issuer lookups. */
  keepCaCertificates(certs: readonly KeptCaCertificate[]): Promise<void>;
  /** Every CA certificate kept from the PEM reports (about 10,000 in 2026). */
  caCertificates(): Promise<DisclosedCaCertificate[]>;
  /** The back-off state of a CCADB report URL (refresh.ts). */
  refreshState(url: string): Promise<RefreshState>;
  putRefreshState(state: RefreshState): Promise<void>;
}
