/**
 * `revwatch verify-evidence`: rebuilds every evidence record from the
 * append-only observations and compares it with the stored one. The records
 * are what status and reports read; the observations are the audit trail. A
 * difference means a record was lost in a write, tampered with, or computed by
 * a different version of the evidence rules: the command says which
 * certificates and exits 1.
 */
import { InputError } from '../errors.js';
import { EMPTY_RECORD, canonicalRecordJson, mergeEvidence, recordObservations, type EvidenceRecord } from '../rules/evidence.js';
import type { CaseStore, ObservationStore } from '../ports/store.js';
import { mapLimit } from '../util/map-limit.js';
import { iso } from '../time.js';

export interface RecordDifference {
  readonly caseId: string;
  readonly sha256: string;
  readonly serial: string;
  /** Observations the stored record keeps that the rebuild does not, and the other way round (as "<time> <source> <status>"). */
  readonly onlyStored: readonly string[];
  readonly onlyRebuilt: readonly string[];
}

export interface VerifyEvidenceResult {
  readonly cases: number;
  readonly certificates: number;
  readonly observations: number;
  readonly differences: readonly RecordDifference[];
}

const describe = (record: EvidenceRecord): string[] =>
  recordObservations(record).map(
    (o) =>
      `${iso(o.observedAt)} ${o.source.kind} ${o.source.url} ${o.status}${o.revocationTime !== null ? ` revocationTime=${iso(o.revocationTime)}` : ''}${o.sha256 ? ` sha256=${o.sha256.slice(0, 16)}` : ''}`,
  );

export async function verifyEvidence(store: CaseStore & ObservationStore, caseId?: string): Promise<VerifyEvidenceResult> {
  const cases = caseId ? [await store.getCase(caseId)] : await store.listCases();
  if (caseId && !cases[0]) throw new InputError(`no case "${caseId}"`);
  let certificates = 0;
  let observations = 0;
  const differences: RecordDifference[] = [];
  for (const kase of cases) {
    const loaded = await store.loadCase(kase!.id);
    certificates += loaded.length;
    const results = await mapLimit(loaded, 16, async (cc) => {
      const all = await store.listObservations(cc.cert.sha256);
      const rebuilt = mergeEvidence(EMPTY_RECORD, all, cc.cert.notAfter);
      return { cc, all: all.length, rebuilt };
    });
    for (const { cc, all, rebuilt } of results) {
      observations += all;
      if (!cc.legacy && canonicalRecordJson(cc.record) === canonicalRecordJson(rebuilt)) continue;
      const stored = new Set(describe(cc.legacy ? EMPTY_RECORD : cc.record));
      const fresh = new Set(describe(rebuilt));
      differences.push({
        caseId: kase!.id,
        sha256: cc.cert.sha256,
        serial: cc.cert.serial,
        onlyStored: [...stored].filter((x) => !fresh.has(x)).sort(),
        onlyRebuilt: [...fresh].filter((x) => !stored.has(x)).sort(),
      });
    }
  }
  return { cases: cases.length, certificates, observations, differences };
}

export function formatVerifyEvidence(r: VerifyEvidenceResult): string {
  const lines = [
    `checked ${r.certificates} evidence record(s) in ${r.cases} case(s) against ${r.observations} observation(s): ${r.differences.length === 0 ? 'all equal their rebuild' : `${r.differences.length} differ`}`,
  ];
  for (const d of r.differences.slice(0, 50)) {
    lines.push(`  case ${d.caseId}, serial ${d.serial} (${d.sha256.slice(0, 16)}...)`);
    for (const x of d.onlyStored) lines.push(`    only in the stored record: ${x}`);
    for (const x of d.onlyRebuilt) lines.push(`    only in the rebuild:       ${x}`);
  }
  if (r.differences.length > 50) lines.push(`  ... and ${r.differences.length - 50} more`);
  return lines.join('\n');
}
