/**
 * The digest's "CRL health" section across deliveries: the sweep state is
 * folded here with health.ts's foldHealth, sweep by sweep, and the digest is
 * produced over an in-memory table. A finding is new in the first delivered
 * digest after it opened and not in the next; its resolution is reported once;
 * a finding opened again after it was resolved is new again; info findings are
 * left out; before any sweep the section is one line (null in the JSON), and
 * the JSON holds to docs/schemas/digest.schema.json.
 */
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../../src/adapters/memory/memory-table.js';
import { MemorySweepState } from '../../../src/adapters/memory/memory-revocation-index.js';
import type { HealthFindingState, SweepRun, SweepState } from '../../../src/ports/revocation-index.js';
import { formatDigest, produceDigest, type Digest } from '../../../src/report/digest.js';
import { iso } from '../../../src/time.js';
import { foldHealth, type HealthBasis, type HealthHit } from '../../../src/sweep/health.js';
import { expectSchema } from '../../helpers/json-schema.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-02T00:00:00Z');
const ALL: ReadonlySet<HealthBasis> = new Set(['reach', 'verify', 'time', 'content', 'event']);
const URL_A = 'http://crl.alpha.example/a.crl';
const URL_B = 'http://crl.beta.example/b.crl';

/** Sweeps folded into a MemorySweepState: each call is one sweep reading both URLs with these hits. */
class Sweeps {
  readonly state = new MemorySweepState();
  async sweep(at: number, hits: { a: HealthHit[]; b: HealthHit[] }): Promise<void> {
    const s: SweepState = await this.state.load();
    const health: Record<string, HealthFindingState> = { ...s.health };
    foldHealth(health, { url: URL_A, owner: 'Alpha Trust' }, hits.a, ALL, at);
    foldHealth(health, { url: URL_B, owner: 'Beta <CA>' }, hits.b, ALL, at);
    const run: SweepRun = {
      sweep: s.sweeps.length + 1,
      startedAt: at,
      finishedAt: at + 60_000,
      urls: 2,
      changed: 2,
      unchanged: 0,
      faults: 0,
    };
    await this.state.save({ ...s, sweeps: [...s.sweeps, run], health });
  }
}

const unreachable: HealthHit = { code: 'crl_unreachable', subject: '', message: 'HTTP 503' };
const stale: HealthHit = { code: 'crl_stale', subject: '', message: 'read after its nextUpdate' };
const notCritical: HealthHit = { code: 'idp_not_critical', subject: '', message: 'the issuingDistributionPoint extension is not critical' };
const delta: HealthHit = { code: 'delta_crl', subject: '', message: 'delta CRL of base CRL 7' };

/** "owner code" of the section's new and resolved findings. */
function section(d: Digest): { new: string[]; resolved: string[] } {
  const owners = d.crlHealth?.owners ?? [];
  return {
    new: owners.flatMap((o) => o.newFindings.map((f) => `${o.owner} ${f.code}`)).sort(),
    resolved: owners.flatMap((o) => o.resolvedFindings.map((f) => `${o.owner} ${f.code}`)).sort(),
  };
}

describe('the digest’s CRL health section', () => {
  const store = memoryStore();
  const sweeps = new Sweeps();
  const digest = (now: number, o: { send?: boolean; since?: number } = {}) =>
    produceDigest(store, now, o.since, async () => undefined, {
      recordDelivery: o.send === true,
      disclosures: null,
      sweepState: sweeps.state,
    });

  it('before any sweep: one line in the text, null in the JSON', async () => {
    const d = await digest(T0);
    expect(d.crlHealth).toBeNull();
    expectSchema('digest', d);
    const text = formatDigest(d, 'text');
    const at = text.split('\n').indexOf('CRL health');
    expect(at).toBeGreaterThan(0);
    expect(text.split('\n').slice(at + 2, at + 4)).toEqual([
      'No sweep has run yet: `revwatch sweep` reads the CRLs the CCADB discloses.',
      '',
    ]);
    // No sweep state at all (AWS mode): the same.
    const none = await produceDigest(store, T0, undefined, async () => undefined, { recordDelivery: false, disclosures: null });
    expect(none.crlHealth).toBeNull();
  });

  it('reports a finding new in the first digest after it opened, and not in the next; info findings never', async () => {
    await sweeps.sweep(T0 + HOUR, { a: [unreachable], b: [stale, delta] });
    const first = await digest(T0 + 2 * HOUR, { send: true });
    expectSchema('digest', first);
    expect(section(first)).toEqual({ new: ['Alpha Trust crl_unreachable', 'Beta <CA> crl_stale'], resolved: [] });
    expect(first.crlHealth!.openFindings).toBe(2);
    expect(first.crlHealth!.lastSweep.sweep).toBe(1);
    const f = first.crlHealth!.owners[0]!.newFindings[0]!;
    expect(f).toMatchObject({ url: URL_A, severity: 'violation', subject: null, resolvedAt: null });
    expect(f.citation).toMatch(/CCADB Policy 2\.1 §6\.2/);

    // Looked at again after the delivery: nothing new, nothing resolved; the open ones still counted.
    const again = await digest(T0 + 3 * HOUR);
    expect(section(again)).toEqual({ new: [], resolved: [] });
    expect(again.crlHealth!.openFindings).toBe(2);
  });

  it('reports a resolution once, with only the finding opened in between as new', async () => {
    // Sweep 2: Alpha's CRL answers again (resolved) but its IDP is not critical (new); Beta stays stale.
    await sweeps.sweep(T0 + 5 * HOUR, { a: [notCritical], b: [stale] });
    const looked = await digest(T0 + 6 * HOUR);
    expect(section(looked)).toEqual({ new: ['Alpha Trust idp_not_critical'], resolved: ['Alpha Trust crl_unreachable'] });
    // Looking changes nothing: the delivery after it reports the same.
    const second = await digest(T0 + 7 * HOUR, { send: true });
    expectSchema('digest', second);
    expect(section(second)).toEqual(section(looked));
    const resolved = second.crlHealth!.owners[0]!.resolvedFindings[0]!;
    expect(resolved.resolvedAt).toBe(iso(T0 + 5 * HOUR));
    expect(resolved.firstSeen).toBe(iso(T0 + HOUR));

    const text = formatDigest(second, 'text');
    expect(text).toContain(
      `  * new violation idp_not_critical: ${URL_A}: the issuingDistributionPoint extension is not critical (first seen ${iso(T0 + 5 * HOUR)};`,
    );
    expect(text).toContain(`  * resolved crl_unreachable: ${URL_A} (seen `);
    expect(text).not.toContain('delta_crl');
    expect(formatDigest(second, 'markdown')).toContain('### CRL health');

    const third = await digest(T0 + 8 * HOUR, { send: true });
    expect(section(third)).toEqual({ new: [], resolved: [] });
  });

  it('reports a finding opened again after its resolution as new again', async () => {
    await sweeps.sweep(T0 + 9 * HOUR, { a: [notCritical, unreachable], b: [stale] });
    const d = await digest(T0 + 10 * HOUR, { send: true });
    expect(section(d)).toEqual({ new: ['Alpha Trust crl_unreachable'], resolved: [] });
  });

  it('with --since, new means first seen after it and resolved means resolved after it, whatever was delivered', async () => {
    const sinceStart = await digest(T0 + 11 * HOUR, { since: T0 });
    // crl_unreachable was resolved at +5 h and opened again at +9 h: the open one is new, its earlier resolution is gone
    // from the state (a finding keeps its latest opening), so only the open one shows.
    expect(section(sinceStart)).toEqual({
      new: ['Alpha Trust crl_unreachable', 'Alpha Trust idp_not_critical', 'Beta <CA> crl_stale'],
      resolved: [],
    });
    const sinceTwo = await digest(T0 + 11 * HOUR, { since: T0 + 4 * HOUR });
    expect(section(sinceTwo)).toEqual({ new: ['Alpha Trust crl_unreachable', 'Alpha Trust idp_not_critical'], resolved: [] });
  });
});
