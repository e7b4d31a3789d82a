/**
 * `sweep`, `lookup` and `crl-health` end to end: the built CLI against real
 * `openssl ca -gencrl` CRLs on 127.0.0.1, with a CCADB report built here:
 *
 * - "Root": a root whose CRL lists a CA certificate without reasonCode;
 * - "Full": an intermediate with one full CRL; between the sweeps one entry is
 *   added, one removed (revoked an hour ago: removed early), one's reason changes;
 * - "Part": two shards with critical IDPs; a serial added to both in sweep 2;
 * - "Mess": a partitioned set with one fault per shard (no IDP, IDP not
 *   critical, IDP naming another URL, PEM, damaged DER, 404, signed by an
 *   impostor key, stale, thisUpdate in the future);
 * - "Regress": a full CRL whose second snapshot has a lower cRLNumber and an
 *   earlier thisUpdate;
 * - "NoPem": a disclosure without its PEM.
 *
 * CRLs are generated when the test says so and served with an ETag, so an
 * unchanged CRL answers 304 and costs the index nothing.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultServer } from '../helpers/fault-server.js';
import { OpensslCa, opensslAvailable, type IssuedLeaf } from '../helpers/openssl-ca.js';
import { readCertificates } from '../../src/pki/certificate.js';
import { CRL_HEALTH_CHECKS } from '../../src/sweep/health.js';
import { type Ended, spawnRevwatch } from '../helpers/live-crl.js';
import { writeCcadbReports } from '../helpers/ccadb-reports.js';
import { untilSecondAfter } from '../helpers/whole-seconds.js';
import { validJson } from '../helpers/json-schema.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const run = opensslAvailable() ? describe : describe.skip;
const genTime = (ms: number): string =>
  new Date(ms).toISOString().replace(/^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z');

interface SweepJson {
  sweep: number;
  urls: number;
  changed: number;
  unchanged: number;
  notModified: number;
  faults: number;
  added: number;
  removed: number;
  claimChanged: number;
  recordsWritten: number;
  results: { url: string; outcome: string; notModified: boolean; fault: { kind: string } | null; added: number; removed: number }[];
}
interface HealthJson {
  owners: {
    owner: string;
    findings: {
      code: string;
      severity: string;
      citation: string;
      url: string;
      subject: string | null;
      resolvedAt: string | null;
      firstSeen: string;
      lastSeen: string;
    }[];
  }[];
}
interface LookupJson {
  input: string;
  serial: string;
  listed: boolean;
  known: boolean;
  issuers: {
    issuerKey: string;
    listings: {
      url: string;
      listed: boolean;
      firstSeen: { sweep: number; sha256: string | null; crlNumber: string | null; thisUpdate: string | null };
      notListedBefore: { sweep: number } | null;
      removed: { sweep: number } | null;
    }[];
    claims: { reason: string | null; revocationDate: string; sweep: number }[];
  }[];
}

run('sweep, lookup and crl-health against real openssl CRLs', { timeout: 300_000 }, () => {
  const http = new FaultServer();
  const home = mkdtempSync(join(tmpdir(), 'revwatch-sweep-'));
  const work = mkdtempSync(join(tmpdir(), 'revwatch-sweep-csv-'));
  const now = Date.now();
  type CaName = 'root' | 'full' | 'part' | 'mess' | 'regress' | 'nopem' | 'impostor';
  const cas = {} as Record<CaName, OpensslCa>;
  const leaves: Record<string, IssuedLeaf> = {};
  /** The bytes each path serves until the test regenerates them. */
  const served = new Map<string, Buffer>();
  const requests = new Map<string, { full: number; notModified: number }>();
  const url = (path: string): string => http.url(path);
  const leaf = (name: string): IssuedLeaf => leaves[name]!;

  const cli = (...args: string[]): Promise<Ended> => spawnRevwatch(home, args);

  const serve = (path: string, bytes: Buffer): void => {
    served.set(path, bytes);
    http.route(path, (req, res) => {
      const body = served.get(path)!;
      const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
      const count = requests.get(path) ?? { full: 0, notModified: 0 };
      requests.set(path, count);
      if (req.headers['if-none-match'] === etag) {
        count.notModified++;
        res.statusCode = 304;
        res.end();
        return;
      }
      count.full++;
      res.setHeader('etag', etag);
      res.end(body);
    });
  };

  /** Re-signs a CA's key by `root`: an intermediate, so BR 4.9.7's subscriber-CRL limits apply to its CRLs. */
  const makeIntermediate = (root: OpensslCa, ca: OpensslCa): void => {
    writeFileSync(
      ca.path('inter.cnf'),
      '[v3]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n',
    );
    execFileSync('openssl', ['req', '-new', '-key', 'ca.key', '-subj', `/CN=${ca.name}`, '-out', 'inter.csr'], {
      cwd: ca.dir,
      stdio: 'ignore',
    });
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        'inter.csr',
        '-CA',
        root.path('ca.pem'),
        '-CAkey',
        root.path('ca.key'),
        '-CAcreateserial',
        '-days',
        '3650',
        '-extfile',
        'inter.cnf',
        '-extensions',
        'v3',
        '-out',
        'ca.pem',
      ],
      { cwd: ca.dir, stdio: 'ignore' },
    );
    execFileSync('openssl', ['x509', '-in', 'ca.pem', '-outform', 'DER', '-out', 'ca.der'], { cwd: ca.dir, stdio: 'ignore' });
  };

  /** `openssl ca -gencrl` over a copy of index.txt holding only `members`' revocations. */
  const gencrl = (
    ca: OpensslCa,
    tag: string,
    members: readonly string[],
    o: { idp?: { url: string; critical: boolean } | null; thisUpdate?: number; nextUpdate?: number; crlNumber?: string } = {},
  ): Buffer => {
    const serials = new Set(members.map((m) => leaves[m]!.serialHex));
    const index = readFileSync(ca.path('index.txt'), 'utf8')
      .split('\n')
      .map((line) => {
        const cols = line.split('\t');
        return cols[0] === 'R' && !serials.has(cols[3]!) ? ['V', cols[1], '', ...cols.slice(3)].join('\t') : line;
      })
      .join('\n');
    writeFileSync(ca.path(`index-${tag}.txt`), index);
    if (!readFileSync(ca.path('openssl.cnf'), 'utf8').includes(`[ca_${tag}]`)) {
      const idp = o.idp
        ? `issuingDistributionPoint = ${o.idp.critical ? 'critical, ' : ''}@idp_${tag}\n[idp_${tag}]\nfullname = URI:${o.idp.url}\n`
        : '';
      ca.appendConfig(
        `[ca_${tag}]\ndir = ${ca.dir}\ndatabase = $dir/index-${tag}.txt\ncrlnumber = $dir/crlnumber\ncertificate = $dir/ca.pem\nprivate_key = $dir/ca.key\ndefault_md = sha256\n[crl_${tag}]\nauthorityKeyIdentifier = keyid:always\n${idp}`,
      );
    }
    if (o.crlNumber) writeFileSync(ca.path('crlnumber'), `${o.crlNumber}\n`);
    const t = o.thisUpdate ?? Date.now() - 60_000;
    const n = o.nextUpdate ?? t + 7 * DAY;
    execFileSync(
      'openssl',
      [
        'ca',
        '-gencrl',
        '-config',
        'openssl.cnf',
        '-name',
        `ca_${tag}`,
        '-crlexts',
        `crl_${tag}`,
        '-out',
        `${tag}.crl.pem`,
        '-crl_lastupdate',
        genTime(t),
        '-crl_nextupdate',
        genTime(n),
      ],
      { cwd: ca.dir, stdio: 'ignore' },
    );
    return execFileSync('openssl', ['crl', '-in', `${tag}.crl.pem`, '-outform', 'DER'], { cwd: ca.dir });
  };

  const messShards = ['noidp', 'noncrit', 'other', 'pem', 'garbage', 'down', 'badsig', 'stale', 'future'].map((s) => `/mess/${s}.crl`);
  const caSha = (ca: OpensslCa): string => readCertificates(readFileSync(ca.path('ca.pem')), 'ca')[0]!.sha256;

  beforeAll(async () => {
    await http.start();
    cas.root = new OpensslCa(url('/root'), 'Sweep Root').init('ec');
    for (const key of ['full', 'part', 'mess', 'regress', 'nopem'] as const) {
      const ca = new OpensslCa(url(`/${key}`), `Sweep ${key} CA`).init('ec');
      makeIntermediate(cas.root, ca);
      cas[key] = ca;
    }
    cas.impostor = new OpensslCa(url('/impostor'), 'Sweep mess CA').init('ec');
    leaves['r-sub'] = cas.root.issue('r-sub');
    for (const n of ['f1', 'f2', 'f3', 'f4', 'f5']) leaves[n] = cas.full.issue(n);
    for (const n of ['p-a', 'p-b', 'p-c']) leaves[n] = cas.part.issue(n);
    for (const [n, ca] of [
      ['g1', cas.regress],
      ['n1', cas.nopem],
      ['m1', cas.mess],
      ['i1', cas.impostor],
    ] as const)
      leaves[n] = ca.issue(n);

    cas.root.revoke(leaf('r-sub'), now - 10 * DAY, null);
    cas.full.revoke(leaf('f1'), now - HOUR, 'keyCompromise');
    cas.full.revoke(leaf('f3'), now - HOUR, 'unspecified');
    cas.full.revoke(leaf('f4'), now - HOUR, 'certificateHold');
    cas.full.revoke(leaf('f5'), now - 2 * HOUR, 'superseded');
    cas.part.revoke(leaf('p-a'), now - HOUR, 'keyCompromise');
    cas.part.revoke(leaf('p-b'), now - HOUR, 'superseded');
    cas.regress.revoke(leaf('g1'), now - HOUR, 'superseded');
    cas.nopem.revoke(leaf('n1'), now - HOUR, 'superseded');
    cas.mess.revoke(leaf('m1'), now - HOUR, 'superseded');

    serve('/root/ca.crl', gencrl(cas.root, 'r', ['r-sub']));
    serve('/full/ca.crl', gencrl(cas.full, 'f', ['f1', 'f3', 'f4', 'f5']));
    serve('/part/p1.crl', gencrl(cas.part, 'p1', ['p-a'], { idp: { url: url('/part/p1.crl'), critical: true } }));
    serve('/part/p2.crl', gencrl(cas.part, 'p2', ['p-b'], { idp: { url: url('/part/p2.crl'), critical: true } }));
    serve('/regress/ca.crl', gencrl(cas.regress, 'g', ['g1'], { crlNumber: '10' }));
    serve('/nopem/ca.crl', gencrl(cas.nopem, 'n', ['n1']));
    const idp = (path: string) => ({ idp: { url: url(path), critical: true } });
    serve('/mess/noidp.crl', gencrl(cas.mess, 'noidp', ['m1']));
    serve('/mess/noncrit.crl', gencrl(cas.mess, 'noncrit', [], { idp: { url: url('/mess/noncrit.crl'), critical: false } }));
    serve('/mess/other.crl', gencrl(cas.mess, 'other', [], idp('/mess/elsewhere.crl')));
    serve('/mess/pem.crl', Buffer.from(readFileSync(cas.mess.path('noidp.crl.pem'))));
    const damaged = Buffer.from(gencrl(cas.mess, 'garbage', [], idp('/mess/garbage.crl')));
    serve('/mess/garbage.crl', Buffer.concat([damaged.subarray(0, 40), Buffer.alloc(30, 0xee), damaged.subarray(70)]));
    serve('/mess/badsig.crl', gencrl(cas.impostor, 'badsig', ['i1'], idp('/mess/badsig.crl')));
    serve(
      '/mess/stale.crl',
      gencrl(cas.mess, 'stale', [], { ...idp('/mess/stale.crl'), thisUpdate: now - 20 * DAY, nextUpdate: now - DAY }),
    );
    serve(
      '/mess/future.crl',
      gencrl(cas.mess, 'future', [], { ...idp('/mess/future.crl'), thisUpdate: now + 2 * DAY, nextUpdate: now + 5 * DAY }),
    );
    // /mess/down.crl is not served: 404.

    const disclosed = (ca: OpensslCa, owner: string, fullCrls: string[], partitionedCrls: string[], inPemReport = true) => ({
      owner,
      name: ca.name,
      pem: readFileSync(ca.path('ca.pem'), 'utf8'),
      fullCrls,
      partitionedCrls,
      inPemReport,
    });
    writeCcadbReports(work, [
      disclosed(cas.root, 'Root Owner', [url('/root/ca.crl')], []),
      disclosed(cas.full, 'Full Owner', [url('/full/ca.crl')], []),
      disclosed(cas.part, 'Part Owner', [], [url('/part/p1.crl'), url('/part/p2.crl')]),
      disclosed(cas.mess, 'Mess Owner', [], messShards.map(url)),
      disclosed(cas.regress, 'Regress Owner', [url('/regress/ca.crl')], []),
      disclosed(cas.nopem, 'NoPem Owner', [url('/nopem/ca.crl')], [], false),
    ]);
  });

  afterAll(async () => {
    for (const ca of Object.values(cas)) await ca.dispose();
    await http.stop();
  });

  const lookupJson = async (...args: string[]): Promise<LookupJson[]> => {
    const r = await cli('--json', 'lookup', ...args);
    expect(r.code, r.stderr).toBe(0);
    return validJson<LookupJson[]>('lookup', r.stdout);
  };
  let sweep1: SweepJson;
  /** When the first sweep's process had ended: every time it recorded is at or before this. */
  let sweep1Ended = 0;

  it('refuses to sweep before a CCADB import, with one line', async () => {
    const r = await cli('sweep');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'revwatch: no CCADB disclosures are imported: run `revwatch ccadb import <report>` first',
    ]);
    const bad = await cli('sweep', '--per-host', '0');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--per-host must be a whole number from 1 to 64/);
  });

  it('the first sweep reads every disclosed URL once, indexes the verified CRLs and records each fault (exit 2)', async () => {
    const imported = await cli('ccadb', 'import', work);
    expect(imported.code, imported.stderr).toBe(0);
    const r = await cli('--json', 'sweep', '--per-host', '2', '--parallel', '8');
    sweep1Ended = Date.now();
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/5 CRL\(s\) could not be read or verified/);
    sweep1 = validJson<SweepJson>('sweep', r.stdout);
    expect(sweep1).toMatchObject({ sweep: 1, urls: 15, faults: 5, notModified: 0 });
    const faults = Object.fromEntries(sweep1.results.filter((x) => x.fault).map((x) => [x.url.replace(/^.*:\d+/, ''), x.fault!.kind]));
    expect(faults).toEqual({
      '/mess/pem.crl': 'not-der',
      '/mess/garbage.crl': 'unparseable',
      '/mess/down.crl': 'http-status',
      '/mess/badsig.crl': 'bad-signature',
      '/nopem/ca.crl': 'no-ca-certificate',
    });
    // root 1, full 4, part 1+1, regress 1, mess noidp 1 (the others list nothing or were not verified)
    expect(sweep1.added).toBe(9);
    for (const path of served.keys()) expect(requests.get(path)?.full ?? 0, path).toBe(1);
  });

  it('lookup: a serial listed since the first read of its URL, by certificate file and by serial', async () => {
    const [byFile] = await lookupJson(leaf('f1').pemPath);
    expect(byFile).toMatchObject({ serial: leaf('f1').serialHex.toLowerCase(), listed: true, known: true });
    const listing = byFile!.issuers[0]!.listings[0]!;
    expect(listing.url).toBe(url('/full/ca.crl'));
    expect(listing.firstSeen.sweep).toBe(1);
    expect(listing.notListedBefore).toBeNull();
    expect(listing.firstSeen.sha256).toBe(createHash('sha256').update(served.get('/full/ca.crl')!).digest('hex'));
    expect(listing.firstSeen.crlNumber).not.toBeNull();
    expect(byFile!.issuers[0]!.claims.map((c) => c.reason)).toEqual(['keyCompromise']);
    const [absent, bySerial] = await lookupJson('0badc0de', leaf('p-b').serialHex, '--issuer', cas.part.path('ca.pem'));
    expect(absent).toMatchObject({ listed: false, known: false, issuers: [] });
    expect(bySerial!.issuers[0]!.listings[0]!.url).toBe(url('/part/p2.crl'));
    const wrongIssuer = await lookupJson(leaf('p-b').serialHex, '--issuer', caSha(cas.full));
    expect(wrongIssuer[0]!.known).toBe(false);
    const bad = await cli('lookup', 'not-hex-or-file');
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a second sweep indexes only the difference: first-seen brackets for new entries, removals, changed claims; an unchanged CRL answers 304', async () => {
    const t2 = Date.now();
    cas.full.revoke(leaf('f2'), t2 - 60_000, 'keyCompromise');
    cas.full.unrevoke(leaf('f1'));
    cas.full.revoke(leaf('f3'), now - HOUR, 'keyCompromise');
    served.set('/full/ca.crl', gencrl(cas.full, 'f', ['f2', 'f3', 'f4', 'f5']));
    cas.part.revoke(leaf('p-c'), t2 - 60_000, 'keyCompromise');
    served.set('/part/p1.crl', gencrl(cas.part, 'p1', ['p-a', 'p-c']));
    served.set('/part/p2.crl', gencrl(cas.part, 'p2', ['p-b', 'p-c']));
    served.set('/regress/ca.crl', gencrl(cas.regress, 'g', ['g1'], { crlNumber: '05', thisUpdate: now - 3 * HOUR }));

    // crl-health prints a finding's first and last seen to the second, and the test below orders them strictly:
    // the second sweep reads in a later second than the first ended (the lookups between them take under a
    // second on a quiet machine, and with them skipped the two sweeps' reads often share a second).
    await untilSecondAfter(sweep1Ended);
    const r = await cli('--json', 'sweep');
    expect(r.code, r.stderr).toBe(2);
    const s = validJson<SweepJson>('sweep', r.stdout);
    expect(s).toMatchObject({ sweep: 2, urls: 15, changed: 4, faults: 5, added: 3, removed: 1, claimChanged: 1 });
    const byPath = (p: string) => s.results.find((x) => x.url === url(p))!;
    expect(byPath('/root/ca.crl')).toMatchObject({ outcome: 'unchanged', notModified: true });
    expect(requests.get('/root/ca.crl')).toEqual({ full: 1, notModified: 1 });
    expect(byPath('/full/ca.crl')).toMatchObject({ outcome: 'changed', added: 1, removed: 1 });

    const [f2, f1, f3, f5] = await lookupJson(leaf('f2').pemPath, leaf('f1').pemPath, leaf('f3').pemPath, leaf('f5').pemPath);
    const l2 = f2!.issuers[0]!.listings[0]!;
    expect(l2.firstSeen.sweep).toBe(2);
    expect(l2.notListedBefore).toMatchObject({ sweep: 1 });
    expect(l2.firstSeen.sha256).toBe(createHash('sha256').update(served.get('/full/ca.crl')!).digest('hex'));
    expect(f1).toMatchObject({ listed: false, known: true });
    expect(f1!.issuers[0]!.listings[0]!.removed).toMatchObject({ sweep: 2 });
    expect(f3!.issuers[0]!.claims.map((c) => [c.reason, c.sweep])).toEqual([
      ['unspecified', 1],
      ['keyCompromise', 2],
    ]);
    // Unchanged entries keep their first seen.
    expect(f5!.issuers[0]!.listings[0]!.firstSeen.sweep).toBe(1);
    const [pc] = await lookupJson(leaf('p-c').pemPath);
    expect(pc!.issuers[0]!.listings.map((l) => l.url).sort()).toEqual([url('/part/p1.crl'), url('/part/p2.crl')]);
  });

  it('crl-health: each finding once per owner, with its citation; a fixed one is resolved', async () => {
    const r = await cli('--json', 'crl-health');
    expect(r.code, r.stderr).toBe(0);
    const report = validJson<HealthJson>('crl-health', r.stdout);
    const all = report.owners.flatMap((o) => o.findings.map((f) => ({ ...f, owner: o.owner })));
    for (const f of all) expect(f.citation).toBe(CRL_HEALTH_CHECKS[f.code as keyof typeof CRL_HEALTH_CHECKS].citation);
    const counts: Record<string, number> = {};
    for (const f of all) counts[f.code] = (counts[f.code] ?? 0) + 1;
    expect(counts).toEqual({
      crl_unreachable: 1,
      crl_no_ca_certificate: 1,
      crl_signature_invalid: 1,
      crl_not_der: 1,
      crl_unparseable: 1,
      crl_stale: 1,
      crl_this_update_future: 1,
      crl_validity_too_long: 1,
      crl_not_reissued: 1,
      shard_idp_missing: 1,
      idp_not_critical: 1,
      idp_other_url: 1,
      serial_in_two_shards: 1,
      crl_number_not_increasing: 1,
      this_update_backwards: 1,
      entry_removed_early: 1,
      forbidden_reason_code: 1,
      ca_entry_without_reason: 1,
    });
    const of = (code: string) => all.find((f) => f.code === code)!;
    expect(of('crl_unreachable')).toMatchObject({ owner: 'Mess Owner', url: url('/mess/down.crl') });
    expect(new Date(of('crl_unreachable').firstSeen).getTime()).toBeLessThan(new Date(of('crl_unreachable').lastSeen).getTime());
    expect(of('forbidden_reason_code')).toMatchObject({ owner: 'Full Owner', subject: leaf('f4').serialHex.toLowerCase() });
    expect(of('entry_removed_early').subject).toBe(leaf('f1').serialHex.toLowerCase());
    expect(of('ca_entry_without_reason')).toMatchObject({ owner: 'Root Owner', subject: leaf('r-sub').serialHex.toLowerCase() });
    expect(of('serial_in_two_shards').subject).toBe(leaf('p-c').serialHex.toLowerCase());
    // f3's explicit unspecified became keyCompromise in sweep 2: resolved, shown with --since.
    const since = await cli('--json', 'crl-health', '--owner', 'full', '--since', new Date(now - DAY).toISOString());
    const resolved = validJson<HealthJson>('crl-health', since.stdout).owners[0]!.findings.filter((f) => f.resolvedAt !== null);
    expect(resolved.map((f) => [f.code, f.subject])).toEqual([['forbidden_reason_code', leaf('f3').serialHex.toLowerCase()]]);
    const human = await cli('crl-health', '--owner', 'Mess');
    expect(human.stdout).toMatch(/Mess Owner: 11 finding/);
    expect(human.stdout).not.toMatch(/Full Owner/);
  });

  it('a third sweep of unchanged CRLs does no index work', async () => {
    const r = await cli('--json', 'sweep', '--owner', 'Full', '--owner', 'part');
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as SweepJson;
    expect(s).toMatchObject({ sweep: 3, urls: 3, changed: 0, notModified: 3, recordsWritten: 0, added: 0 });
  });
});
