/**
 * The appendix's subjectAltNames are read once, at `track`, and kept with the
 * certificate: a report of a large case reads no certificate's bytes. A
 * certificate tracked before they were kept has its SANs read from its DER.
 */
import { describe, expect, it } from 'vitest';
import { buildCaseReport } from '../../../src/report/case-report.js';
import { toBundle } from '../../../src/report/bundle.js';
import type { Store } from '../../../src/ports/store.js';
import { makeWorld } from '../check/world.js';

/** Records which certificates' DER a report asks for. */
function countDerReads(store: Store): string[][] {
  const asked: string[][] = [];
  const read = store.getCertificateDers.bind(store);
  store.getCertificateDers = async (shas) => {
    asked.push([...shas]);
    return read(shas);
  };
  return asked;
}

describe('subjectAltNames in reports', () => {
  it('are kept at track, so the report reads no certificate bytes, and the bundle still gets every PEM', async () => {
    const w = await makeWorld([
      { name: 'a', serial: '0b01', dnsNames: ['a.example', 'www.a.example'] },
      { name: 'b', serial: '0b02', dnsNames: ['b.example'] },
    ]);
    const stored = await w.store.loadCase('c1');
    expect(Object.fromEntries(stored.map((cc) => [cc.cert.serial, cc.cert.sans]))).toEqual({
      '0b01': ['a.example', 'www.a.example'],
      '0b02': ['b.example'],
    });
    await w.check();
    const asked = countDerReads(w.store);
    const report = await buildCaseReport(w.store, 'c1', w.clock.now().getTime());
    expect(report.certificates.map((c) => c.sans)).toEqual([['a.example', 'www.a.example'], ['b.example']]);
    expect(asked.flat()).toEqual([]);
    expect(report.certificateDers).toEqual([]);
    // A bundle from such a report would lack the certificates' PEMs: it is refused, not written short.
    expect(() => toBundle(report, () => null)).toThrow(/certificateBytes/);

    const bundle = await buildCaseReport(w.store, 'c1', w.clock.now().getTime(), { certificateBytes: true });
    expect(bundle.certificateDers.map((d) => d.sha256).sort()).toEqual([w.certs.a!.sha256, w.certs.b!.sha256].sort());
  });

  it('of a certificate tracked before they were kept are read from its stored DER, for that certificate only', async () => {
    const w = await makeWorld([
      { name: 'old', serial: '0c01', dnsNames: ['old.example', '192.0.2.1'] },
      { name: 'new', serial: '0c02', dnsNames: ['new.example'] },
    ]);
    // A case holding "old" as an earlier version stored it (without `sans`) beside "new" as stored now.
    const loaded = await w.store.loadCase('c1');
    const old = loaded.find((cc) => cc.cert.serial === '0c01')!.cert;
    const fresh = loaded.find((cc) => cc.cert.serial === '0c02')!.cert;
    const { sans: _sans, ...withoutSans } = old;
    await w.store.createCase({ ...w.kase, id: 'c2' }, w.clock.now().getTime());
    await w.store.addCertificates([
      { ...withoutSans, caseId: 'c2' },
      { ...fresh, caseId: 'c2' },
    ]);
    const asked = countDerReads(w.store);
    const report = await buildCaseReport(w.store, 'c2', w.clock.now().getTime());
    expect(report.certificates.map((c) => c.sans)).toEqual([['old.example', '192.0.2.1'], ['new.example']]);
    expect(asked.flat()).toEqual([w.certs.old!.sha256]);
  });
});

describe('reports that show no observations', () => {
  it('build none, and judge exactly as a report that lists them', async () => {
    const w = await makeWorld([{ name: 'a' }, { name: 'b' }]);
    await w.check();
    w.clock.advance(3_600_000);
    w.fetcher.revoke(w.certs.a!.serial, w.clock.now().getTime() - 60_000, 1);
    await w.check();
    const now = w.clock.now().getTime();
    const full = await buildCaseReport(w.store, 'c1', now);
    const lean = await buildCaseReport(w.store, 'c1', now, { observations: false });
    expect(full.certificates.every((c) => c.observations.length > 0)).toBe(true);
    expect(lean.certificates.every((c) => c.observations.length === 0)).toBe(true);
    const withoutObservations = (r: typeof full) => ({ ...r, certificates: r.certificates.map((c) => ({ ...c, observations: [] })) });
    expect(withoutObservations(lean)).toEqual(withoutObservations(full));
  });
});
