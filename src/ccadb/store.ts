/**
 * The CCADB disclosures as imported, in the single table (docs/data-model.md,
 * "Items"): the current disclosure of each CA, two lookup items per CA (by
 * Subject Key Identifier, and by subject name for the signature-checked
 * fallback), and a dated history. Re-importing replaces the current
 * disclosures and appends to the history only what changed: a CA that moves
 * its CRLs in the middle of an incident is evidence too.
 *
 * Built on the Table port (query, batch put, conditional delete), so the
 * DynamoDB table (AWS and the local embedded one) and the in-memory table for
 * unit tests run the same code; the keys are built in store/layout.ts.
 */
import { PRESENT, queryAll, type Item, type Key, type Table } from '../ports/table.js';
import {
  CCADB_CA_CERTS,
  CCADB_CURRENT,
  CCADB_META,
  CCADB_REFRESH,
  ccadbByKeyId,
  ccadbByName,
  ccadbCertByKeyId,
  ccadbCertByName,
  ccadbCertByText,
  ccadbHistory,
} from '../store/layout.js';
import { disclosedUrls, fullCrlsOf } from './report.js';
import type { DisclosedCaCertificate, KeptCaCertificate } from './issuers.js';
import type { Disclosure, DisclosureChange, Disclosures, ImportSummary, RefreshState, StoredDisclosure } from '../ports/disclosures.js';

export type {
  DisclosureChange,
  DisclosureLookup,
  Disclosures,
  ImportSummary,
  RefreshState,
  StoredDisclosure,
} from '../ports/disclosures.js';

const CURRENT = CCADB_CURRENT;
const META = CCADB_META;
const byKey = ccadbByKeyId;
const byName = ccadbByName;
const historyOf = ccadbHistory;
const REFRESH = CCADB_REFRESH;
/** The CA certificates of the "All Certificate PEMs" report: by fingerprint, and the three issuer lookups. */
const CA_CERTS = CCADB_CA_CERTS;
const certByKey = ccadbCertByKeyId;
const certByName = ccadbCertByName;
const certByText = ccadbCertByText;

/** What a re-import compares: a disclosure "changed" when any of these did. */
const fingerprint = (d: Disclosure): string =>
  JSON.stringify([d.subjectKeyId, d.subjectNameHash, [...fullCrlsOf(d)].sort(), [...d.partitionedCrls].sort(), d.name, d.owner]);

/** A stored disclosure; one stored before V5 has its one full CRL as fullCrl only. */
const toDisclosure = (item: Item): StoredDisclosure => {
  const d = JSON.parse(String(item.d)) as StoredDisclosure;
  return d.fullCrls ? d : { ...d, fullCrls: fullCrlsOf(d) };
};

export class DisclosureStore implements Disclosures {
  constructor(private readonly table: Table) {}

  async current(): Promise<StoredDisclosure[]> {
    return (await queryAll(this.table, { pk: CURRENT }, 'the CCADB disclosures')).map(toDisclosure);
  }

  async byKeyId(subjectKeyIdHex: string): Promise<StoredDisclosure[]> {
    return (await queryAll(this.table, { pk: byKey(subjectKeyIdHex.toLowerCase()) }, 'the CCADB disclosures by key identifier')).map(
      toDisclosure,
    );
  }

  async bySubjectName(nameHashHex: string): Promise<StoredDisclosure[]> {
    return (await queryAll(this.table, { pk: byName(nameHashHex) }, 'the CCADB disclosures by subject name')).map(toDisclosure);
  }

  /** When the disclosures were last imported, and from where; null before the first import. */
  async lastImport(): Promise<{ at: number; source: string } | null> {
    const [item] = await queryAll(this.table, { pk: META.pk }, 'the last CCADB import');
    return item ? { at: Number(item.at), source: String(item.source) } : null;
  }

  /**
   * Keeps disclosed CA certificates by fingerprint, with their issuer lookups. Only ever adds: the PEM
   * report is published per NotBeforeYear, so one file is never the whole set, and a CA certificate
   * once disclosed still identifies the CA that signed with its key.
   */
  async keepCaCertificates(certs: readonly KeptCaCertificate[]): Promise<void> {
    const puts: Item[] = [];
    for (const c of certs) {
      const body = JSON.stringify({ sha256: c.sha256, pem: c.pem } satisfies DisclosedCaCertificate);
      puts.push({ pk: CA_CERTS, sk: c.sha256, d: body });
      if (c.subjectKeyId) puts.push({ pk: certByKey(c.subjectKeyId), sk: c.sha256, d: body });
      puts.push({ pk: certByName(c.subjectNameHash), sk: c.sha256, d: body });
      if (c.subjectTextKey) puts.push({ pk: certByText(c.subjectTextKey), sk: c.sha256, d: body });
    }
    if (puts.length) await this.table.batchPut(puts, 'CCADB CA certificates');
  }

  private async certsAt(pk: string, what: string): Promise<DisclosedCaCertificate[]> {
    return (await queryAll(this.table, { pk }, what)).map((i) => JSON.parse(String(i.d)) as DisclosedCaCertificate);
  }

  async caCertificates(): Promise<DisclosedCaCertificate[]> {
    return this.certsAt(CA_CERTS, 'the CCADB CA certificates');
  }

  /** Disclosed CA certificates with this Subject Key Identifier: from the PEM report, and from records that carried a PEM. */
  async caCertificatesByKeyId(subjectKeyIdHex: string): Promise<DisclosedCaCertificate[]> {
    const ski = subjectKeyIdHex.toLowerCase();
    const fromRecords = (await this.byKeyId(ski)).flatMap((d) => (d.pem ? [{ sha256: d.sha256, pem: d.pem }] : []));
    return [...(await this.certsAt(certByKey(ski), 'the CCADB CA certificates by key identifier')), ...fromRecords];
  }

  async caCertificatesBySubjectName(nameHashHex: string): Promise<DisclosedCaCertificate[]> {
    const fromRecords = (await this.bySubjectName(nameHashHex)).flatMap((d) => (d.pem ? [{ sha256: d.sha256, pem: d.pem }] : []));
    return [...(await this.certsAt(certByName(nameHashHex), 'the CCADB CA certificates by subject name')), ...fromRecords];
  }

  async caCertificatesBySubjectText(textKey: string): Promise<DisclosedCaCertificate[]> {
    return this.certsAt(certByText(textKey), 'the CCADB CA certificates by subject');
  }

  /** How downloads from `url` have been going; a URL never tried has no failures and no good download. */
  async refreshState(url: string): Promise<RefreshState> {
    const item = await this.table.get({ pk: REFRESH, sk: url }, 'the CCADB refresh state');
    return item
      ? (JSON.parse(String(item.d)) as RefreshState)
      : { url, failures: 0, lastFailureAt: null, lastError: null, lastGoodAt: null };
  }

  async putRefreshState(state: RefreshState): Promise<void> {
    await this.table.batchPut([{ pk: REFRESH, sk: state.url, d: JSON.stringify(state) }], 'the CCADB refresh state');
  }

  async history(sha256: string): Promise<DisclosureChange[]> {
    return (await queryAll(this.table, { pk: historyOf(sha256) }, 'the CCADB disclosure history')).map(
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
    const deletes: Key[] = [];
    let added = 0;
    let changed = 0;
    let unchanged = 0;
    const lookupKeys = (d: Disclosure): Key[] => [
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
      const change: DisclosureChange = {
        at: importedAt,
        fullCrl: d.fullCrl,
        fullCrls: fullCrlsOf(d),
        partitionedCrls: d.partitionedCrls,
        removed: false,
      };
      puts.push({ pk: historyOf(d.sha256), sk: at, d: JSON.stringify(change) });
    }
    for (const old of before.values()) {
      deletes.push({ pk: CURRENT, sk: old.sha256 }, ...lookupKeys(old));
      const change: DisclosureChange = { at: importedAt, fullCrl: null, fullCrls: [], partitionedCrls: [], removed: true };
      puts.push({ pk: historyOf(old.sha256), sk: at, d: JSON.stringify(change) });
    }
    // History and new items first, removals last: an import cut short leaves more disclosed, never less.
    await this.table.batchPut(puts, 'CCADB disclosures');
    for (const k of deletes) await this.table.deleteIf(k, PRESENT, 'a CCADB disclosure');
    // Written last: an import that failed part way is retried by the next weekly refresh.
    await this.table.batchPut([{ ...META, at: importedAt, source }], 'the last CCADB import');
    return { added, changed, unchanged, removed: before.size };
  }
}

export { disclosedUrls };
