import { describe, expect, it } from 'vitest';
import { CRL_PARALLEL, CRL_PER_HOST, LARGE_CRL_BYTES, runCrlJobs } from '../../../src/check/crl-pool.js';
import type { CrlJob } from '../../../src/ports/index.js';

const job = (url: string, keptBytes?: number): CrlJob => ({
  kind: 'crl',
  url,
  issuerSha256: 'i',
  certificatesAreCAs: false,
  conditional: null,
  certificates: [],
  ...(keptBytes !== undefined ? { keptBytes } : {}),
});

/** Runs jobs that each take a few ticks, recording the most in flight overall and per host. */
async function observe(jobs: CrlJob[], fail?: string) {
  let inFlight = 0;
  let peak = 0;
  const perHost = new Map<string, number>();
  let peakPerHost = 0;
  const order: string[] = [];
  const concurrentWithLarge: string[] = [];
  const running = new Set<string>();
  const outcome = runCrlJobs(jobs, async (j) => {
    const host = new URL(j.url).host;
    for (const other of running) if ((j.keptBytes ?? 0) > LARGE_CRL_BYTES) concurrentWithLarge.push(other);
    running.add(j.url);
    inFlight++;
    perHost.set(host, (perHost.get(host) ?? 0) + 1);
    peak = Math.max(peak, inFlight);
    peakPerHost = Math.max(peakPerHost, perHost.get(host)!);
    order.push(j.url);
    await new Promise((resolve) => setTimeout(resolve, 5));
    running.delete(j.url);
    inFlight--;
    perHost.set(host, perHost.get(host)! - 1);
    if (j.url === fail) throw new Error(`boom at ${j.url}`);
  });
  return { outcome, stats: () => ({ peak, peakPerHost, order, concurrentWithLarge, inFlight }) };
}

describe('runCrlJobs', () => {
  it('keeps within the parallel and per-host limits, and reaches every job', async () => {
    const jobs = Array.from({ length: 40 }, (_, i) => job(`http://h${i % 5}.example/${i}.crl`));
    const { outcome, stats } = await observe(jobs);
    await outcome;
    const s = stats();
    expect(s.order).toHaveLength(40);
    expect(new Set(s.order).size).toBe(40);
    expect(s.peak).toBe(CRL_PARALLEL);
    expect(s.peakPerHost).toBeLessThanOrEqual(CRL_PER_HOST);
  });

  it('asks one host no more than its limit, however many of its CRLs come first', async () => {
    const jobs = [...Array.from({ length: 10 }, (_, i) => job(`http://big.example/${i}.crl`)), job('http://other.example/x.crl')];
    const { outcome, stats } = await observe(jobs);
    await outcome;
    expect(stats().peakPerHost).toBe(CRL_PER_HOST);
    // The other host is not queued behind the ten.
    expect(stats().order.indexOf('http://other.example/x.crl')).toBeLessThan(CRL_PER_HOST + 1);
  });

  it('fetches a CRL that was large alone, after the others', async () => {
    const jobs = [
      job('http://a.example/large.crl', LARGE_CRL_BYTES + 1),
      ...Array.from({ length: 6 }, (_, i) => job(`http://h${i}.example/c.crl`)),
    ];
    const { outcome, stats } = await observe(jobs);
    await outcome;
    expect(stats().order.at(-1)).toBe('http://a.example/large.crl');
    expect(stats().concurrentWithLarge).toEqual([]);
  });

  it('starts nothing after a failure and rejects once the jobs in flight have settled', async () => {
    const jobs = Array.from({ length: 20 }, (_, i) => job(`http://h${i % 4}.example/${i}.crl`));
    const { outcome, stats } = await observe(jobs, 'http://h0.example/0.crl');
    await expect(outcome).rejects.toThrow('boom at http://h0.example/0.crl');
    expect(stats().inFlight).toBe(0);
    expect(stats().order.length).toBeLessThan(20);
  });

  it('resolves at once with no jobs', async () => {
    await expect(runCrlJobs([], async () => undefined)).resolves.toBeUndefined();
  });
});
