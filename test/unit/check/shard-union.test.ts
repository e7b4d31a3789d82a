/**
 * A partitioned CRL answers as one: a shard's silence about a serial is no
 * "good" unless every shard was read and silent in the run, and then it is
 * dated by the oldest shard (a later date would push the bound on backdating
 * past the truth and turn an on-time revocation late).
 */
import { describe, expect, it } from 'vitest';
import { ShardUnion, type ObservationRecorder } from '../../../src/check/execute.js';
import type { ProbeAnswer, ProbeOutcome } from '../../../src/check/probe.js';
import type { CrlJob, JobCertificate } from '../../../src/ports/index.js';

const cert = (sha256: string): JobCertificate => ({ sha256, serial: sha256, notAfter: 0, caseIds: ['c'], previous: null, sources: 3 });
const shardJob = (url: string, certs: JobCertificate[]): CrlJob => ({
  kind: 'crl',
  url,
  issuerSha256: 'i',
  certificatesAreCAs: false,
  conditional: null,
  certificates: certs,
  requireIdp: true,
});
const good = (url: string, thisUpdate: number): ProbeAnswer =>
  ({
    source: { kind: 'crl', url },
    serial: 'x',
    checkedAt: 1000,
    status: 'good',
    revocationTime: null,
    reasonCode: null,
    thisUpdate,
    nextUpdate: null,
    producedAt: null,
    signer: 'crl-issuer',
    crlNumber: '1',
    problems: [],
    raw: null,
    sha256: 'h',
  }) as unknown as ProbeAnswer;
const revoked = (url: string): ProbeOutcome =>
  ({ ...good(url, 500), status: 'revoked', revocationTime: 100, reasonCode: 1 }) as ProbeOutcome;

function recorder(): { seen: { sha: string; outcome: ProbeOutcome }[]; r: ObservationRecorder } {
  const seen: { sha: string; outcome: ProbeOutcome }[] = [];
  return {
    seen,
    r: {
      consider: async (c: JobCertificate, outcome: ProbeOutcome) => void seen.push({ sha: c.sha256, outcome }),
    } as unknown as ObservationRecorder,
  };
}

describe('ShardUnion', () => {
  const a = cert('a');
  const jobs = ['s1', 's2', 's3'].map((u) => shardJob(u, [a]));

  it('records the shards\u2019 silence only once every shard was silent, each dated by the oldest thisUpdate', async () => {
    const { seen, r } = recorder();
    const union = new ShardUnion(jobs);
    await union.good(a, good('s1', 300), r);
    await union.good(a, good('s2', 100), r);
    expect(seen).toEqual([]);
    await union.good(a, good('s3', 200), r);
    expect(seen.map((s) => [s.outcome.source.url, (s.outcome as ProbeAnswer).thisUpdate])).toEqual([
      ['s1', 100],
      ['s2', 100],
      ['s3', 100],
    ]);
  });

  it('drops the silence when any shard lists the certificate or could not be used, whatever the order', async () => {
    for (const spoilAt of [0, 1, 2]) {
      const { seen, r } = recorder();
      const union = new ShardUnion(jobs);
      for (let i = 0; i < 3; i++) {
        if (i === spoilAt) union.spoil(a);
        else await union.good(a, good(`s${i + 1}`, 100 * (i + 1)), r);
      }
      expect(seen, `spoiled at ${spoilAt}`).toEqual([]);
    }
  });

  it('records nothing for a certificate one of whose shards did not answer in the run (304, or a skipped job)', async () => {
    const { seen, r } = recorder();
    const union = new ShardUnion(jobs);
    await union.good(a, good('s1', 100), r);
    await union.good(a, good('s2', 100), r);
    expect(seen).toEqual([]);
  });

  it('leaves certificates outside any partitioned set alone', async () => {
    const { seen, r } = recorder();
    const union = new ShardUnion(jobs);
    await union.good(cert('other'), good('s1', 100), r);
    expect(seen).toEqual([]);
    expect(revoked('s1').status).toBe('revoked');
  });
});
