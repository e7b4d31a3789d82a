/** The good-answer log in memory, for tests of the check pipeline (the same semantics as the local files). */
import { GOOD_ANSWER_KEEP_MS, goodAnswerKey, laterGood, type GoodAnswerLog } from '../../ports/good-answers.js';
import type { StoredObservation } from '../../ports/store.js';

export class MemoryGoodAnswerLog implements GoodAnswerLog {
  /** Committed answers, as a later run reads them. */
  readonly committed = new Map<string, StoredObservation>();
  private run = new Map<string, StoredObservation>();

  add(observation: StoredObservation): void {
    const key = goodAnswerKey(observation);
    this.run.set(key, laterGood(this.run.get(key), observation));
  }

  async latest(sha256Certs: readonly string[]): Promise<Map<string, StoredObservation[]>> {
    const wanted = new Set(sha256Certs);
    const merged = new Map(this.committed);
    for (const [key, o] of this.run) merged.set(key, laterGood(merged.get(key), o));
    const out = new Map<string, StoredObservation[]>();
    for (const o of merged.values()) if (wanted.has(o.sha256Cert)) out.set(o.sha256Cert, [...(out.get(o.sha256Cert) ?? []), o]);
    return out;
  }

  async commit(now: number): Promise<void> {
    for (const [key, o] of this.run) this.committed.set(key, laterGood(this.committed.get(key), o));
    this.run = new Map();
    for (const [key, o] of this.committed) if (o.observedAt < now - GOOD_ANSWER_KEEP_MS) this.committed.delete(key);
  }
}
