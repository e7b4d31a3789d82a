/**
 * AWS mode's good-answer log (ports/good-answers.ts) in S3: each job of a run
 * writes the good answers it received as one gzipped JSON-lines object per
 * source it asked,
 *
 *   good-answers/<run start, ISO>_<runId>/<source hash>/<lo>-<hi>_<jobId>.jsonl.gz
 *
 * where lo and hi are the first 16 hex digits of the lowest and highest
 * certificate SHA-256 in the object. The key is the job's own, so workers of
 * one run never write the same object (a redelivered job writes its own again,
 * with the same answers or later ones). Nothing is merged or replaced: the
 * bucket's lifecycle rule expires the objects after a few days (the daily
 * heartbeat puts a good answer in the record at least once a day, so older
 * logged answers could not tighten the bound).
 *
 * A lookup, made only for certificates whose answer changed, walks the runs
 * newest first (one LIST of the run prefixes), and in each lists the objects
 * of the certificate's sources and reads only those whose key range covers
 * it; a (source, certificate) pair is done at the newest run that logged it.
 * The planner batches a host's OCSP requests in certificate order, so the
 * ranges of one run's objects of a source do not overlap and one GET answers
 * a pair.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Observation } from '../../domain.js';
import { goodAnswerKey, laterGood, type GoodAnswerLog } from '../../ports/good-answers.js';
import type { StoredObservation } from '../../ports/store.js';

export const GOOD_ANSWERS_PREFIX = 'good-answers/';
/** How far back a lookup walks; the bucket's lifecycle rule expires objects one day later (infra/good-answers-bucket.ts). */
export const S3_GOOD_ANSWER_KEEP_DAYS = 3;

interface Line {
  readonly o: Observation & { sha256Cert: string };
  readonly raw: string | null;
}

/** The job a log writes for: its objects are named after it. */
export interface GoodAnswerJob {
  readonly runId: string;
  readonly runStartedAt: number;
  readonly jobId: string;
}

type Source = Observation['source'];

export const sourceHash = (s: Source): string => createHash('sha256').update(`${s.kind} ${s.url}`).digest('hex').slice(0, 16);
const runPrefix = (job: GoodAnswerJob): string =>
  `${GOOD_ANSWERS_PREFIX}${new Date(job.runStartedAt).toISOString().replace(/:/g, '-')}_${job.runId}/`;
const RANGE = /\/([0-9a-f]{16})-([0-9a-f]{16})_[^/]+\.jsonl\.gz$/;

export class S3GoodAnswerLog implements GoodAnswerLog {
  /** This job's answers, per source hash, then per (source, certificate). */
  private readonly run = new Map<string, Map<string, StoredObservation>>();
  /** Objects read in this lookup or an earlier one of the same job (a run's objects do not change after it ends). */
  private readonly objectCache = new Map<string, StoredObservation[]>();
  /** S3 requests made, for the cost figures (docs/evidence.md). */
  readonly requests = { put: 0, list: 0, get: 0, bytesPut: 0 };

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly job: GoodAnswerJob,
  ) {}

  add(observation: StoredObservation): void {
    const hash = sourceHash(observation.source);
    const answers = this.run.get(hash) ?? new Map<string, StoredObservation>();
    this.run.set(hash, answers);
    const key = goodAnswerKey(observation);
    answers.set(key, laterGood(answers.get(key), observation));
  }

  async latest(
    sha256Certs: readonly string[],
    sourcesOf?: (sha256Cert: string) => readonly Source[],
  ): Promise<Map<string, StoredObservation[]>> {
    const best = new Map<string, StoredObservation>();
    const take = (o: StoredObservation): void => {
      const key = goodAnswerKey(o);
      best.set(key, laterGood(best.get(key), o));
    };
    const wanted = new Set(sha256Certs);
    for (const answers of this.run.values()) for (const o of answers.values()) if (wanted.has(o.sha256Cert)) take(o);

    // The (source, certificate) pairs still to find in earlier runs, grouped by source.
    const open = new Map<string, { source: Source; shas: Set<string> }>();
    for (const sha of wanted) {
      for (const source of sourcesOf?.(sha) ?? []) {
        const hash = sourceHash(source);
        const entry = open.get(hash) ?? { source, shas: new Set<string>() };
        entry.shas.add(sha);
        open.set(hash, entry);
      }
    }
    if (open.size > 0) {
      const current = runPrefix(this.job);
      const oldest = runPrefix({ ...this.job, runStartedAt: this.job.runStartedAt - S3_GOOD_ANSWER_KEEP_DAYS * 86_400_000, runId: '' });
      // Newest first; this run's own prefix included (other jobs of the run that already ended).
      const runs = (await this.listPrefixes(GOOD_ANSWERS_PREFIX))
        .filter((p) => p <= current && p >= oldest)
        .sort()
        .reverse();
      for (const run of runs) {
        for (const [hash, entry] of open) {
          const keys = (await this.listKeys(`${run}${hash}/`)).filter((key) => {
            const m = RANGE.exec(key);
            return m !== null && [...entry.shas].some((sha) => m[1]! <= sha.slice(0, 16) && sha.slice(0, 16) <= m[2]!);
          });
          const found = new Set<string>();
          for (const key of keys) {
            for (const o of await this.readObject(key)) {
              if (!entry.shas.has(o.sha256Cert) || sourceHash(o.source) !== hash) continue;
              take(o);
              found.add(o.sha256Cert);
            }
          }
          for (const sha of found) entry.shas.delete(sha);
          if (entry.shas.size === 0) open.delete(hash);
        }
        if (open.size === 0) break;
      }
    }
    const out = new Map<string, StoredObservation[]>();
    for (const o of best.values()) out.set(o.sha256Cert, [...(out.get(o.sha256Cert) ?? []), o]);
    return out;
  }

  /** Writes this job's answers, one object per source. `now` is unused: the bucket's lifecycle rule drops old objects. */
  async commit(_now: number): Promise<void> {
    for (const [hash, answers] of this.run) {
      const lines: string[] = [];
      const shas: string[] = [];
      for (const o of answers.values()) {
        const { raw, ...rest } = o;
        lines.push(JSON.stringify({ o: rest, raw: raw ? Buffer.from(raw).toString('base64') : null } satisfies Line));
        shas.push(o.sha256Cert.toLowerCase());
      }
      if (lines.length === 0) continue;
      shas.sort();
      const lo = shas[0]!.slice(0, 16);
      const hi = shas[shas.length - 1]!.slice(0, 16);
      const body = gzipSync(`${lines.join('\n')}\n`);
      const key = `${runPrefix(this.job)}${hash}/${lo}-${hi}_${this.job.jobId}.jsonl.gz`;
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/gzip' }));
      this.requests.put++;
      this.requests.bytesPut += body.length;
      this.objectCache.delete(key);
    }
    this.run.clear();
  }

  private async listPrefixes(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
      );
      this.requests.list++;
      for (const p of r.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  private async listKeys(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      this.requests.list++;
      for (const c of r.Contents ?? []) if (c.Key) out.push(c.Key);
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  private async readObject(key: string): Promise<StoredObservation[]> {
    const cached = this.objectCache.get(key);
    if (cached) return cached;
    let bytes: Uint8Array;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      this.requests.get++;
      if (!r.Body) return [];
      bytes = await r.Body.transformToByteArray();
    } catch (err) {
      // Expired by the lifecycle rule between the LIST and the GET: that pair's bound is its record's.
      if ((err as { name?: string }).name === 'NoSuchKey') return [];
      throw err;
    }
    const out: StoredObservation[] = [];
    for (const text of gunzipSync(bytes).toString('utf8').split('\n')) {
      if (!text) continue;
      const line = JSON.parse(text) as Line;
      out.push({ ...line.o, raw: line.raw === null ? null : Buffer.from(line.raw, 'base64') });
    }
    this.objectCache.set(key, out);
    return out;
  }
}
