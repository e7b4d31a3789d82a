/**
 * The imported CCADB disclosures (where each CA publishes its CRLs): what the
 * checks, the status and the reports look up, and what `ccadb import` and the
 * planner's weekly refresh replace. src/ccadb/store.ts implements it over the
 * table; the runtime hands it out as this interface.
 */
import type { Disclosure } from '../ccadb/report.js';

export type { Disclosure };

export interface StoredDisclosure extends Disclosure {
  /** When the import that wrote this disclosure ran (epoch ms). */
  readonly importedAt: number;
}

export interface DisclosureChange {
  /** When the import saw it (epoch ms). */
  readonly at: number;
  readonly fullCrl: string | null;
  readonly partitionedCrls: readonly string[];
  /** The CA left the report. */
  readonly removed: boolean;
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
export interface Disclosures extends DisclosureLookup {
  /** Every CA's current disclosure. */
  current(): Promise<StoredDisclosure[]>;
  /** What changed for one CA certificate (by its SHA-256), oldest first. */
  history(sha256: string): Promise<DisclosureChange[]>;
  /** Replaces the current disclosures with an import's, appending what changed to the history. */
  replace(disclosures: readonly Disclosure[], importedAt: number, source?: string): Promise<ImportSummary>;
}
