/**
 * The CCADB disclosures as imported, in the single table (design.md, "Data
 * model"): the current disclosure of each CA, two lookup items per CA (by
 * Subject Key Identifier, and by subject name for the signature-checked
 * fallback), and a dated history. Re-importing replaces the current
 * disclosures and appends to the history only what changed: a CA that moves
 * its CRLs in the middle of an incident is evidence too.
 *
 * Built on three table operations, so the DynamoDB table (AWS and the local
 * embedded one) and an in-memory table for unit tests run the same code.
 */
import { disclosedUrls } from './report.js';
import type { Disclosure, DisclosureChange, Disclosures, ImportSummary, StoredDisclosure } from '../ports/disclosures.js';

export type { DisclosureChange, DisclosureLookup, Disclosures, ImportSummary, StoredDisclosure } from '../ports/disclosures.js';

type Item = Record<string, unknown>;

/** The three operations of the table helper (adapters/aws/dynamo-table.ts) the store is built on. */
export interface DisclosureTable {
  queryAll(q: { pk: string }, what: string): Promise<Item[]>;
  batchPut(items: readonly Item[], noun: string): Promise<void>;
  deleteIf(
    key: { pk: string; sk: string },
    condition: { expression: string; values?: Record<string, unknown> },
    what: string,
  ): Promise<boolean>;
}

const CURRENT = 'CCADB#CA';
const META = { pk: 'CCADB#META', sk: 'import' } as const;
const byKey = (ski: string): string => `CCADB#SKI#${ski}`;
const byName = (hash: string): string => `CCADB#NAME#${hash}`;
const historyOf = (sha256: string): string => `CCADB#HIST#${sha256}`;

/** What a re-import compares: a disclosure "changed" when any of these did. */
const fingerprint = (d: Disclosure): string =>
  JSON.stringify([d.subjectKeyId, d.subjectNameHash, d.fullCrl, [...d.partitionedCrls].sort(), d.name, d.owner]);

const toDisclosure = (item: Item): StoredDisclosure => JSON.parse(String(item.d)) as StoredDisclosure;

export class DisclosureStore implements Disclosures {
  constructor(private readonly table: DisclosureTable) {}

  async current(): Promise<StoredDisclosure[]> {
    return (await this.table.queryAll({ pk: CURRENT }, 'the CCADB disclosures')).map(toDisclosure);
  }

  async byKeyId(subjectKeyIdHex: string): Promise<StoredDisclosure[]> {
    return (await this.table.queryAll({ pk: byKey(subjectKeyIdHex.toLowerCase()) }, 'the CCADB disclosures by key identifier')).map(
      toDisclosure,
    );
  }

  async bySubjectName(nameHashHex: string): Promise<StoredDisclosure[]> {
    return (await this.table.queryAll({ pk: byName(nameHashHex) }, 'the CCADB disclosures by subject name')).map(toDisclosure);
  }

  /** When the disclosures were last imported, and from where; null before the first import. */
  async lastImport(): Promise<{ at: number; source: string } | null> {
    const [item] = await this.table.queryAll({ pk: META.pk }, 'the last CCADB import');
    return item ? { at: Number(item.at), source: String(item.source) } : null;
  }

  async history(sha256: string): Promise<DisclosureChange[]> {
    return (await this.table.queryAll({ pk: historyOf(sha256) }, 'the CCADB disclosure history')).map(
      (i) => JSON.parse(String(i.d)) as DisclosureChange,
    );
  }

  /**
   * Makes `disclosures` the current set: new and changed ones are written with a history entry, ones no
   * longer reported are removed (with a history entry saying so), unchanged ones are left as they are.
   */
  async replace(disclosures: readonly Disclosure[], importedAt: number, source = ''): Promise<ImportSummary> {
    const before = new Map((await this.current()).map((d) => [d.sha256, d]));
    const at = new Date(importedAt).toISOString();
    const puts: Item[] = [];
    const deletes: { pk: string; sk: string }[] = [];
    let added = 0;
    let changed = 0;
    let unchanged = 0;
    const lookupKeys = (d: Disclosure): { pk: string; sk: string }[] => [
      ...(d.subjectKeyId ? [{ pk: byKey(d.subjectKeyId), sk: d.sha256 }] : []),
      ...(d.subjectNameHash ? [{ pk: byName(d.subjectNameHash), sk: d.sha256 }] : []),
    ];
    for (const d of disclosures) {
      const old = before.get(d.sha256);
      before.delete(d.sha256);
      if (old && fingerprint(old) === fingerprint(d)) {
        unchanged++;
        continue;
      }
      if (old) {
        changed++;
        // A lookup key that changed must not keep answering with the old item.
        const keep = new Set(lookupKeys(d).map((k) => k.pk));
        for (const k of lookupKeys(old)) if (!keep.has(k.pk)) deletes.push(k);
      } else added++;
      const stored: StoredDisclosure = { ...d, importedAt };
      const body = JSON.stringify(stored);
      puts.push({ pk: CURRENT, sk: d.sha256, d: body });
      for (const k of lookupKeys(d)) puts.push({ ...k, d: body });
      const change: DisclosureChange = { at: importedAt, fullCrl: d.fullCrl, partitionedCrls: d.partitionedCrls, removed: false };
      puts.push({ pk: historyOf(d.sha256), sk: at, d: JSON.stringify(change) });
    }
    for (const old of before.values()) {
      deletes.push({ pk: CURRENT, sk: old.sha256 }, ...lookupKeys(old));
      const change: DisclosureChange = { at: importedAt, fullCrl: null, partitionedCrls: [], removed: true };
      puts.push({ pk: historyOf(old.sha256), sk: at, d: JSON.stringify(change) });
    }
    // History and new items first, removals last: an import cut short leaves more disclosed, never less.
    await this.table.batchPut(puts, 'CCADB disclosures');
    for (const k of deletes) await this.table.deleteIf(k, { expression: 'attribute_exists(pk)' }, 'a CCADB disclosure');
    // Written last: an import that failed part way is retried by the next weekly refresh.
    await this.table.batchPut([{ ...META, at: importedAt, source }], 'the last CCADB import');
    return { added, changed, unchanged, removed: before.size };
  }
}

export { disclosedUrls };
