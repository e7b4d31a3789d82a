/**
 * The JSON Schemas in docs/schemas/ describe what the real commands print.
 * A small case (an in-process CA serving OCSP and its CRL on 127.0.0.1; no
 * openssl) is tracked, checked and reported by the built CLI, spawned as a
 * user would run it, and every `--json` output is validated against its
 * schema. The schemas refuse unknown properties where the shape is fixed, so
 * a renamed or added field fails here until docs/schemas/ says so too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { LocalCa } from '../../src/local-ca/ca.js';
import { LocalCaServer } from '../../src/local-ca/server.js';
import { toPem } from '../../src/pki/certificate.js';

const exec = promisify(execFile);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SCHEMA_DIR = join('docs', 'schemas');
const SCHEMA_BASE = 'https://revwatch.example/schemas/';

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function loadSchemas(): { validator: (name: string) => ValidateFunction; names: string[] } {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const names: string[] = [];
  for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as object);
    names.push(file.replace(/\.schema\.json$/, ''));
  }
  return {
    names,
    validator: (name) => {
      const validate = ajv.getSchema(`${SCHEMA_BASE}${name}.schema.json`);
      if (!validate) throw new Error(`no schema ${name}`);
      return validate;
    },
  };
}

describe('the --json outputs match docs/schemas/', () => {
  const { validator, names } = loadSchemas();
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-schemas-'));
  const home = join(dir, 'home');
  const now = Date.now();
  const reportedAt = Math.floor((now - 3 * DAY) / 60_000) * 60_000;
  let server: LocalCaServer;
  const paths: Record<string, string> = {};
  const serials: Record<string, string> = {};
  const outputs = new Map<string, unknown>();

  const cli = async (...args: string[]): Promise<CliResult> => {
    try {
      const r = await exec(process.execPath, ['bin/revwatch.js', '--home', home, '--allow-private-network', ...args], { encoding: 'utf8' });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  /** Runs a command that must succeed, validates its JSON against `schema`, and keeps it for the later tests. */
  const expectValid = async (schema: string, args: string[], exitCode = 0): Promise<Record<string, unknown>> => {
    const r = await cli(...args);
    expect(r.code, r.stderr).toBe(exitCode);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    const validate = validator(schema);
    expect(validate(json) ? [] : validate.errors, `${args.join(' ')} against ${schema}.schema.json`).toEqual([]);
    outputs.set(schema, json);
    return json;
  };

  beforeAll(async () => {
    const ca = await LocalCa.create({ name: 'CN=Schema Test CA, O=revwatch tests', notBefore: now - 365 * DAY, notAfter: now + 365 * DAY });
    server = await new LocalCaServer(ca, () => Date.now()).start();
    paths.ca = join(dir, 'ca.pem');
    writeFileSync(paths.ca, toPem(ca.info.der));
    for (const name of ['on-time', 'late-wrong-reason', 'overdue']) {
      const c = await ca.issue({
        subject: `CN=${name}.schemas.example`,
        notBefore: reportedAt - 30 * DAY,
        notAfter: now + 60 * DAY,
        ocspUrls: [server.ocspUrl],
        crlUrls: [server.crlUrl],
      });
      server.issued(c.info.serial);
      serials[name] = c.info.serial;
      paths[name] = join(dir, `${name}.pem`);
      writeFileSync(paths[name], toPem(c.info.der));
    }
    // keyCompromise (1) within the 24 hours; superseded (4) after them, which key compromise does not allow (BR 7.2.2).
    server.revoke(serials['on-time']!, reportedAt + 2 * HOUR, 1);
    server.revoke(serials['late-wrong-reason']!, reportedAt + 30 * HOUR, 4);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('track', async () => {
    const files = ['on-time', 'late-wrong-reason', 'overdue'].map((n) => paths[n]!);
    const json = await expectValid('track', [
      '--json',
      'track',
      ...files,
      '--issuer',
      paths.ca!,
      '--case',
      'schemas',
      '--reported-at',
      new Date(reportedAt).toISOString(),
      '--reason',
      'key-compromise',
      '--notify',
      'compliance@schemas.example',
    ]);
    expect(json).toEqual({ caseId: 'schemas', caseCreated: true, added: 3, alreadyTracked: 0 });
  });

  it('check, with the notices it sent', async () => {
    const json = await expectValid('check', ['--json', 'check']);
    expect(json).toMatchObject({ certificates: 3, crlsFetched: 1, ocspRequests: 3, failedSources: [] });
    expect((json.notices as unknown[]).length).toBe(1);
  });

  it('status', async () => {
    const json = (await expectValid('status', ['--json', 'status'])) as {
      cases: { certificates: { serial: string; verdict: string; findings: unknown[] }[] }[];
    };
    const verdicts = Object.fromEntries(json.cases[0]!.certificates.map((c) => [c.serial, c.verdict]));
    expect(verdicts).toEqual({
      [serials['on-time']!]: 'revoked_on_time',
      [serials['late-wrong-reason']!]: 'revoked_late',
      [serials.overdue!]: 'overdue',
    });
    expect(json.cases[0]!.certificates.some((c) => c.findings.length > 0)).toBe(true);
    await expectValid('status', ['--json', 'status', '--rules-as-of', '2026-04-01T00:00:00Z']);
  });

  it('report --format json', async () => {
    const json = await expectValid('report', ['report', '--case', 'schemas', '--format', 'json']);
    expect((json.certificates as unknown[]).length).toBe(3);
  });

  it('digest', async () => {
    const json = (await expectValid('digest', ['--json', 'digest', '--since', new Date(reportedAt).toISOString()])) as {
      cas: unknown[];
      missingDelayedReports: unknown[];
    };
    expect(json.cas.length).toBe(1);
    expect(json.missingDelayedReports.length).toBe(1);
  });

  it('verify-evidence', async () => {
    const json = await expectValid('verify-evidence', ['--json', 'verify-evidence']);
    expect(json).toMatchObject({ cases: 1, certificates: 3, differences: [] });
  });

  it('deadline, with and without a contested interpretation and a notifying program', async () => {
    await expectValid('deadline', ['--json', 'deadline', '--reported-at', '2024-03-11T14:53:00Z', '--reason', 'misissuance']);
    await expectValid('deadline', ['--json', 'deadline', '--reported-at', '2020-02-29T03:08:00Z', '--reason', 'caa-failure']);
    await expectValid('deadline', [
      '--json',
      'deadline',
      '--reported-at',
      '2025-12-01T00:00:00Z',
      '--reason',
      'misuse',
      '--notified-by',
      'microsoft',
    ]);
    await expectValid('deadline', [
      '--json',
      'deadline',
      '--reported-at',
      '2023-01-01T00:00:00Z',
      '--reason',
      'key-compromise',
      '--kind',
      'smime-subscriber',
    ]);
  });

  it('inspect crl, with a listed and an unlisted serial', async () => {
    const json = await expectValid('inspect-crl', [
      '--json',
      'inspect',
      'crl',
      server.crlUrl,
      '--issuer',
      paths.ca!,
      '--serial',
      serials['on-time']!,
      '--serial',
      serials.overdue!,
    ]);
    expect(json).toMatchObject({ signatureValid: true, entries: 2, notListed: [serials.overdue] });
  });

  it('inspect ocsp, asking the responder', async () => {
    const json = await expectValid('inspect-ocsp', [
      '--json',
      'inspect',
      'ocsp',
      server.ocspUrl,
      '--cert',
      paths['late-wrong-reason']!,
      '--issuer',
      paths.ca!,
    ]);
    expect(json).toMatchObject({
      signatureValid: true,
      signer: 'issuer',
      responses: [{ serial: serials['late-wrong-reason'], status: 'revoked', reasonCode: 'superseded' }],
    });
  });

  it('inspect exits 3 for a response that is not evidence, and still prints JSON of the same shape', async () => {
    const json = await expectValid('inspect-crl', ['--json', 'inspect', 'crl', server.crlUrl, '--issuer', paths['on-time']!], 3);
    expect(json.signatureValid).toBe(false);
  });

  it('ccadb import (a V5 records report and a PEM report, one bad row)', async () => {
    const fixtures = join('test', 'fixtures', 'ccadb');
    const header = (name: string): string[] =>
      readFileSync(join(fixtures, name), 'utf8')
        .replace(/^\uFEFF/, '')
        .trim()
        .split(',');
    const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
    const csv = (columns: string[], rows: Record<string, string>[]): string =>
      `${[columns.map(quote).join(','), ...rows.map((r) => columns.map((c) => quote(r[c] ?? '')).join(','))].join('\r\n')}\r\n`;
    const ca = readFileSync(paths.ca!, 'utf8');
    const { createHash } = await import('node:crypto');
    const der = Buffer.from(ca.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const sha256 = createHash('sha256').update(der).digest('hex').toUpperCase();
    const reports = join(dir, 'ccadb');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(reports);
    writeFileSync(
      join(reports, 'AllCertificateRecordsCSVFormatV5.csv'),
      csv(header('AllCertificateRecordsCSVFormatV5.header.csv'), [
        {
          'CA Owner': 'Schema Owner',
          'Certificate Name': 'Schema Test CA',
          'SHA-256 Fingerprint': sha256,
          'Subject Key Identifier': '',
          'JSON Array of All Full CRL URLs': JSON.stringify([server.crlUrl]),
          'JSON Array of Partitioned CRLs': '[]',
        },
        { 'CA Owner': 'Schema Owner', 'Certificate Name': 'no fingerprint' },
      ]),
    );
    writeFileSync(
      join(reports, 'AllCertificatePEMsCSVFormat_NotBeforeYear_2026.csv'),
      csv(header('AllCertificatePEMsCSVFormat.header.csv'), [{ 'SHA-256 Fingerprint': sha256, 'X.509 Certificate (PEM)': ca }]),
    );
    const json = await expectValid('ccadb-import', ['--json', 'ccadb', 'import', reports]);
    expect(json).toMatchObject({ disclosures: 1, withCrls: 1, caCertificates: 1, added: 1 });
    expect((json.skipped as { line: number }[]).map((s) => s.line)).toEqual([3]);
  });

  it('every schema was exercised by a real output', () => {
    // sweep, lookup and crl-health need a swept CCADB: test/integration/sweep-e2e.test.ts validates them.
    // migrate-poll-index needs a table written before the narrow polling index: test/aws/poll-backfill.test.ts does.
    const elsewhere = new Set(['common', 'sweep', 'lookup', 'crl-health', 'migrate-poll-index']);
    expect([...outputs.keys()].sort()).toEqual(names.filter((n) => !elsewhere.has(n)).sort());
  });

  it('the schemas refuse a renamed or an added field', () => {
    const status = structuredClone(outputs.get('status')) as { cases: { certificates: Record<string, unknown>[] }[] };
    const cert = status.cases[0]!.certificates[0]!;
    cert.effectiveRevocationAt = cert.effectiveRevocationTime;
    delete cert.effectiveRevocationTime;
    expect(validator('status')(status)).toBe(false);

    const check = { ...(outputs.get('check') as Record<string, unknown>), durationMs: 1 };
    expect(validator('check')(check)).toBe(false);

    const report = structuredClone(outputs.get('report')) as { certificates: Record<string, unknown>[] };
    report.certificates[0]!.crtsh = report.certificates[0]!.crtshUrl;
    expect(validator('report')(report)).toBe(false);

    const deadline = { ...(outputs.get('deadline') as Record<string, unknown>), deadline: '2024-03-16 14:53' };
    expect(validator('deadline')(deadline)).toBe(false);
  });
});
