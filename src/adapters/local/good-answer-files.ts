/**
 * Local mode's good-answer log (ports/good-answers.ts): files under
 * <home>/good-answers/, one per certificate shard (the first two hex digits
 * of the certificate's SHA-256, so 256 files at most), each JSON lines of
 * (source, certificate) pairs with their latest good answers, raw OCSP bytes
 * included. Answers that differ only in their certificate share one line (the
 * answer once, then the certificates it answers for): one CRL read, or one 304
 * confirming it, answers alike for every certificate it covers, and an
 * unchanged re-check of 4,500 such certificates wrote 1.8 MB of lines that
 * repeated the same answer. A line of one pair (written before such lines)
 * is read as before. A run keeps its answers in memory and appends them to the
 * files it touched at `commit`: an unchanged re-check gives each pending
 * certificate a new good answer, and reading, parsing and rewriting every shard
 * for it cost more than the rest of such a run's log work. A shard is rewritten
 * (each pair's latest answer, answers past GOOD_ANSWER_KEEP_MS dropped) to a
 * temporary file and renamed, so a crash leaves the previous version whole,
 * once it holds several runs' worth of lines. A crash part-way through an
 * append leaves at most one damaged last line, which reading skips (its pairs'
 * bounds are then only as tight as their records) and the next append starts
 * after. A lookup reads only the shards of the certificates whose answers
 * changed, keeping the later answer of each pair.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Observation } from '../../domain.js';
import { isNoSpace, NoSpaceError } from '../../errors.js';
import { GOOD_ANSWER_KEEP_MS, goodAnswerKey, laterGood, type GoodAnswerLog } from '../../ports/good-answers.js';
import type { StoredObservation } from '../../ports/store.js';

/**
 * One line of a shard file: an answer and the certificates it answers for (`certs`), or, as lines were written
 * before answers were shared, one pair's answer with its certificate in `o`.
 */
interface Line {
  readonly o: Observation & { sha256Cert?: string };
  readonly raw: string | null;
  readonly certs?: readonly string[];
}

const shardOf = (sha256Cert: string): string =>
  sha256Cert
    .slice(0, 2)
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '_');

/**
 * Answers a run holds in memory before they are merged into the files: a first check adds one per
 * certificate, and a million of them held at once would be most of its memory (issue 29).
 */
export const HELD_GOOD_ANSWERS = 250_000;

/**
 * A shard file is rewritten once it would hold this many times what the run appends to it: when every pending
 * certificate is asked each run, about once in this many runs, and the file stays within this many runs' lines.
 */
export const COMPACT_AT_RUNS = 4;

export class LocalGoodAnswerFiles implements GoodAnswerLog {
  private readonly run = new Map<string, Map<string, StoredObservation>>();
  private held = 0;
  /** Shards this run merged early: the commit prunes them too. */
  private readonly merged = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly options: { readonly heldAnswers?: number } = {},
  ) {}

  add(observation: StoredObservation): void {
    const shard = shardOf(observation.sha256Cert);
    const answers = this.run.get(shard) ?? new Map<string, StoredObservation>();
    this.run.set(shard, answers);
    const key = goodAnswerKey(observation);
    const before = answers.get(key);
    if (!before) this.held++;
    answers.set(key, laterGood(before, observation));
    // Merged early, nothing pruned (commit prunes): verified good answers, as a failed run's commit keeps them too.
    if (this.held >= (this.options.heldAnswers ?? HELD_GOOD_ANSWERS)) this.merge(null);
  }

  /** Answers held in memory, not yet in the files. */
  get answersHeld(): number {
    return this.held;
  }

  async latest(sha256Certs: readonly string[]): Promise<Map<string, StoredObservation[]>> {
    const out = new Map<string, StoredObservation[]>();
    const byShard = new Map<string, Set<string>>();
    for (const sha of sha256Certs) {
      const shard = shardOf(sha);
      byShard.set(shard, (byShard.get(shard) ?? new Set()).add(sha));
    }
    for (const [shard, wanted] of byShard) {
      const merged = this.read(shard);
      for (const [key, o] of this.run.get(shard) ?? []) merged.set(key, laterGood(merged.get(key), o));
      for (const o of merged.values()) if (wanted.has(o.sha256Cert)) out.set(o.sha256Cert, [...(out.get(o.sha256Cert) ?? []), o]);
    }
    return out;
  }

  async commit(now: number): Promise<void> {
    this.merge(now - GOOD_ANSWER_KEEP_MS);
  }

  /** Merges the run's answers into the files it touched; answers older than `keepFrom` are dropped (null: none). */
  private merge(keepFrom: number | null): void {
    const shards = new Set(this.run.keys());
    if (keepFrom !== null) for (const shard of this.merged) shards.add(shard);
    if (shards.size === 0) return;
    mkdirSync(this.dir, { recursive: true });
    for (const shard of shards) {
      const answers = this.run.get(shard) ?? new Map<string, StoredObservation>();
      const path = this.path(shard);
      const appended = linesOf(answers.values());
      const size = existsSync(path) ? statSync(path).size : 0;
      // Early merges only append; the commit rewrites (and prunes) the shards they touched, and any other that
      // holds several runs' worth of lines.
      const rewrite =
        keepFrom !== null && size > 0 && (this.merged.has(shard) || size + appended.length > COMPACT_AT_RUNS * appended.length);
      try {
        if (rewrite) {
          const merged = this.read(shard);
          for (const [key, o] of answers) merged.set(key, laterGood(merged.get(key), o));
          const kept: StoredObservation[] = [];
          for (const o of merged.values()) if (o.observedAt >= keepFrom) kept.push(o);
          writeFileSync(`${path}.tmp`, linesOf(kept));
          renameSync(`${path}.tmp`, path);
        } else if (appended) append(path, size, appended);
      } catch (err) {
        // A rewritten shard's previous file stays whole (no part-written temporary is left behind); a torn
        // append is one damaged last line.
        rmSync(`${path}.tmp`, { force: true });
        if (isNoSpace(err)) {
          throw new NoSpaceError(
            `cannot write the good-answer log in ${this.dir}: no space left on the device; free space and run the command again`,
            {
              cause: err,
            },
          );
        }
        throw err;
      }
    }
    if (keepFrom === null) for (const shard of this.run.keys()) this.merged.add(shard);
    else this.merged.clear();
    this.run.clear();
    this.held = 0;
  }

  private path(shard: string): string {
    return join(this.dir, `${shard}.jsonl`);
  }

  private read(shard: string): Map<string, StoredObservation> {
    const out = new Map<string, StoredObservation>();
    const path = this.path(shard);
    if (!existsSync(path)) return out;
    for (const text of readFileSync(path, 'utf8').split('\n')) {
      if (!text) continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        continue; // a damaged line (a torn append, a hand edit): that pair's bound is only as tight as its record, never tighter
      }
      const raw = line.raw === null ? null : Buffer.from(line.raw, 'base64');
      for (const sha256Cert of line.certs ?? [line.o.sha256Cert]) {
        if (typeof sha256Cert !== 'string') continue; // not a line this log wrote
        const o: StoredObservation = { sha256Cert, ...line.o, raw };
        const key = goodAnswerKey(o);
        out.set(key, laterGood(out.get(key), o)); // appended runs follow older ones, but a pair's later answer wins either way
      }
    }
    return out;
  }
}

/**
 * The lines of a shard file for `answers`: a run of answers alike but for their certificate (sameAnswer) is one
 * line, its raw bytes in base64.
 */
function linesOf(answers: Iterable<StoredObservation>): string {
  let text = '';
  let head: StoredObservation | null = null;
  let certs: string[] = [];
  const close = (): void => {
    if (!head) return;
    const { raw, sha256Cert: _, ...answer } = head;
    text += `${JSON.stringify({ o: answer, raw: raw ? Buffer.from(raw).toString('base64') : null, certs } satisfies Line)}\n`;
  };
  for (const o of answers) {
    if (head && sameAnswer(head, o)) {
      certs.push(o.sha256Cert);
      continue;
    }
    close();
    head = o;
    certs = [o.sha256Cert];
  }
  close();
  return text;
}

/** Whether two answers are the same but for the certificate: every other field equal, objects and bytes by value. */
function sameAnswer(a: StoredObservation, b: StoredObservation): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) {
    if (key === 'sha256Cert') continue;
    const x = (a as unknown as Record<string, unknown>)[key];
    const y = (b as unknown as Record<string, unknown>)[key];
    if (x === y) continue;
    if (x instanceof Uint8Array && y instanceof Uint8Array) {
      if (Buffer.compare(x, y) !== 0) return false;
    } else if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object' || !(key in b)) return false;
    else if (JSON.stringify(x) !== JSON.stringify(y)) return false;
  }
  return true;
}

/** Appends lines to a shard file of `size` bytes, after a newline when a torn earlier append left none. */
function append(path: string, size: number, lines: string): void {
  const fd = openSync(path, size > 0 ? 'r+' : 'a');
  try {
    let at = size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) at += writeSync(fd, '\n', at);
    }
    writeSync(fd, lines, at);
    // Not fsynced, as the rewrite was not: a lost tail costs a bound's tightness, never a record's evidence.
  } finally {
    closeSync(fd);
  }
}
