/**
 * The Markdown incident report against a golden file, section by section, on a
 * fixture case whose every date comes from the FakeClock; then parsed back to
 * check every certificate row, and the CSV and JSON carry the same fields.
 * Regenerate the golden file with UPDATE_GOLDEN=1 after a deliberate change.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCaseReport, type CaseReport } from '../../../src/report/case-report.js';
import { toBundle } from '../../../src/report/bundle.js';
import { APPENDIX_COLUMNS, CSV_HEADER, MARKDOWN_SAN_LIMIT, toCsv, toJson, toMarkdown } from '../../../src/report/formats.js';
import { formatDuration, iso } from '../../../src/time.js';
import { IRG_HEADER, writeIrgCsv } from '../../../src/report/irg-csv.js';
import { DAY, HOUR, makeWorld, T0, type World } from '../check/world.js';

const GOLDEN = join(__dirname, 'golden', 'incident-report.md');
const MINUTE = 60_000;
const MANY_SANS = ['many.example', 'www.many.example', 'api.many.example', 'mail.many.example', 'cdn.many.example'];

/** Sections by their "### " heading; the part before the first one is "(head)". */
function sections(md: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = md.split(/^### /m);
  out.set('(head)', parts[0]!);
  for (const p of parts.slice(1)) out.set(p.slice(0, p.indexOf('\n')), p);
  return out;
}

/** Splits a Markdown table row on unescaped pipes and unescapes the cells. */
function cells(row: string): string[] {
  const inner = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < inner.length; i++) {
    if (inner[i] === '\\' && i + 1 < inner.length) cur += inner[++i];
    else if (inner[i] === '|') {
      out.push(cur.trim());
      cur = '';
    } else cur += inner[i];
  }
  out.push(cur.trim());
  return out;
}

/** RFC 4180: quoted fields with doubled quotes, CRLF rows. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cur);
      cur = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cur);
      rows.push(row);
      row = [];
      cur = '';
      i++;
    } else cur += ch;
  }
  return rows;
}

describe('incident report (Markdown, CSV, JSON)', () => {
  let w: World;
  let report: CaseReport;
  let md: string;
  // Serials and SHA-256s are random per run; the golden file names them.
  let normalize: (text: string) => string;

  beforeAll(async () => {
    w = await makeWorld(
      [
        { name: 'on-time', serial: '0a01', dnsNames: ['on-time.example', 'www.on-time.example'] },
        { name: 'late', serial: '0a02', dnsNames: ['late.example'] },
        { name: 'never', serial: '0a03', dnsNames: ['never.example'] },
        { name: 'many', serial: '0a04', dnsNames: MANY_SANS },
      ],
      { title: 'Key compromise at Unit CA', reportUrl: 'https://bugzilla.example/show_bug.cgi?id=16' },
    );
    await w.check();
    w.clock.set(T0 + 2 * HOUR);
    w.fetcher.revoke(w.certs['on-time']!.serial, T0 + HOUR, 1);
    w.fetcher.revoke(w.certs.many!.serial, T0 + HOUR, 1);
    await w.check();
    w.clock.set(T0 + 31 * HOUR);
    w.fetcher.revoke(w.certs.late!.serial, T0 + 30 * HOUR, 1);
    await w.check();
    // "never" is overdue by 2 d 4 h 10 m (and a few milliseconds, which no user-facing time shows).
    w.clock.set(T0 + DAY + 2 * DAY + 4 * HOUR + 10 * MINUTE + 425);
    report = await buildCaseReport(w.store, 'c1', w.clock.now().getTime());
    md = toMarkdown(report);
    const names = Object.entries(w.certs).map(([name, info]) => [info.sha256, `<sha256:${name}>`] as const);
    normalize = (text) => names.reduce((t, [sha, label]) => t.split(sha).join(label), text);
  });

  it('matches the golden file, section by section', () => {
    const actual = normalize(md);
    if (process.env.UPDATE_GOLDEN === '1' || !existsSync(GOLDEN)) writeFileSync(GOLDEN, actual);
    const expected = sections(readFileSync(GOLDEN, 'utf8'));
    const got = sections(actual);
    expect([...got.keys()]).toEqual([
      '(head)',
      'Summary',
      'Incident-report duties',
      'Delayed-revocation update',
      'Impact',
      'Timeline (UTC)',
      'Appendix: certificates',
      'Findings',
      'Verifying the evidence',
    ]);
    for (const [name, text] of expected) expect({ section: name, text: got.get(name) }).toEqual({ section: name, text });
  });

  it('shows every time to the second with Z, and no milliseconds anywhere', () => {
    expect(md).not.toMatch(/\.\d{3}Z/);
    for (const t of md.match(/\d{4}-\d{2}-\d{2}T[\d:.]+Z?/g) ?? []) expect(t).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(report.generatedAt).toBe(iso(T0 + 3 * DAY + 4 * HOUR + 10 * MINUTE));
  });

  it('the timeline has the report, both deadlines when set, batches first seen revoked, last seen good and now', () => {
    const timeline = sections(md).get('Timeline (UTC)')!;
    const lines = timeline.split('\n').filter((l) => l.startsWith('- '));
    const at = lines.map((l) => Date.parse(l.slice(2, 22)));
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(timeline).toContain(`- ${iso(T0)}: Problem reported to the CA`);
    expect(timeline).toContain(`- ${iso(T0 + DAY)}: MUST deadline (BR 4.9.1.1, 24 hours)`);
    expect(timeline).toContain(
      `- ${iso(T0 + 2 * HOUR)}: 2 certificate(s) first seen revoked by revwatch; revocation time claimed by the CA ${iso(T0 + HOUR)}`,
    );
    expect(timeline).toContain(
      `- ${iso(T0 + 31 * HOUR)}: 1 certificate(s) first seen revoked by revwatch; revocation time claimed by the CA ${iso(T0 + 30 * HOUR)}`,
    );
    expect(timeline).toMatch(/last seen good \(not revoked\) by revwatch/);
    expect(lines[lines.length - 1]).toBe(`- ${report.generatedAt}: Now: this report`);
    expect(timeline).not.toMatch(/published/);
  });

  it('parses back: one appendix row per certificate with every field', () => {
    const appendix = sections(md)
      .get('Appendix: certificates')!
      .split('\n')
      .filter((l) => l.startsWith('|'));
    expect(cells(appendix[0]!)).toEqual([...APPENDIX_COLUMNS]);
    const rows = appendix
      .slice(2)
      .map(
        (r) => Object.fromEntries(cells(r).map((v, i) => [APPENDIX_COLUMNS[i]!, v])) as Record<(typeof APPENDIX_COLUMNS)[number], string>,
      );
    expect(rows).toHaveLength(report.certificates.length);
    for (const c of report.certificates) {
      const row = rows.find((r) => r.serial === c.serial)!;
      expect(row).toBeDefined();
      expect(row['crt.sh']).toBe(`[search](https://crt.sh/?q=${c.sha256})`);
      expect(row['subject CN']).toBe(c.subjectCN);
      const shown =
        c.sans.slice(0, MARKDOWN_SAN_LIMIT).join(', ') +
        (c.sans.length > MARKDOWN_SAN_LIMIT ? ` (+${c.sans.length - MARKDOWN_SAN_LIMIT} more)` : '');
      expect(row.SANs).toBe(shown);
      expect(row.notBefore).toBe(c.notBefore);
      expect(row.notAfter).toBe(c.notAfter);
      expect(row['claimed revocation']).toBe(c.revocationTime ?? '');
      expect(row.reason).toBe(c.reasonCode ?? '');
      expect(row['first seen revoked']).toBe(c.firstSeenRevokedAt ?? '');
      expect(row['last seen good']).toBe(c.lastSeenGoodAt ?? '');
      expect(row.verdict).toBe(c.verdict);
      expect(row['late by']).toBe(c.lateBySeconds === null ? '' : formatDuration(c.lateBySeconds));
    }
    const byName = (name: string) => rows.find((r) => r.serial === w.certs[name]!.serial)!;
    expect(byName('never')).toMatchObject({ verdict: 'overdue', 'late by': '2 d 4 h 10 m' });
    expect(byName('late')).toMatchObject({ verdict: 'revoked_late', 'late by': '6 h', 'claimed revocation': iso(T0 + 30 * HOUR) });
    expect(byName('many').SANs).toBe('many.example, www.many.example, api.many.example (+2 more)');
  });

  it('the delayed-revocation update: revoked, not yet revoked, expired, and the next update due in 3 (at most 7) days', () => {
    const update = sections(md).get('Delayed-revocation update')!;
    expect(update).toContain('- Revoked: 3\n');
    expect(update).toContain('- Not yet revoked: 1\n');
    expect(update).toContain('- Planned for revocation and expired: 0\n');
    const at = Date.parse(report.generatedAt);
    expect(update).toContain(
      `Next update expected by ${iso(at + 3 * DAY)} (SHOULD, 3 days), and no later than ${iso(at + 7 * DAY)} (MUST, 7 days)`,
    );
  });

  it('irg-csv: the eleven standard IRG columns first and in order, a row per certificate, verdicts as "Is revoked?"', async () => {
    let text = '';
    const chunks: string[] = [];
    const rowsWritten = await writeIrgCsv(
      w.store,
      'c1',
      w.clock.now().getTime(),
      (chunk) => {
        chunks.push(chunk);
        text += chunk;
      },
      { rowsPerWrite: 2 },
    );
    expect(rowsWritten).toBe(4);
    // Written as it comes: the header and four rows two at a time are three writes, not one.
    expect(chunks.length).toBe(3);
    const lines = parseCsv(text);
    expect(lines[0]!.slice(0, 11)).toEqual([
      'Precertificate SHA-256 hash',
      'Certificate SHA-256 hash',
      'Subject',
      'Issuer',
      'Not before',
      'Not after',
      'Serial #',
      'dNSNames',
      'Is revoked?',
      'Revocation date',
      'Revocation reason',
    ]);
    expect(lines[0]).toEqual([...IRG_HEADER]);
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.map((v, i) => [IRG_HEADER[i]!, v])));
    expect(rows).toHaveLength(4);
    for (const c of report.certificates) {
      const row = rows.find((r) => r['Serial #'] === c.serial)!;
      expect(row).toMatchObject({
        'Certificate SHA-256 hash': c.sha256,
        'Precertificate SHA-256 hash': '',
        Subject: c.subject,
        Issuer: c.issuer,
        'Not before': c.notBefore,
        'Not after': c.notAfter,
        dNSNames: c.sans.join(' '),
        'First seen revoked': c.firstSeenRevokedAt ?? '',
        'Last seen good': c.lastSeenGoodAt ?? '',
        Verdict: c.verdict,
        'Late by': c.lateBySeconds === null ? '' : formatDuration(c.lateBySeconds),
        'Validity from': 'certificate',
      });
    }
    const byName = (name: string) => rows.find((r) => r['Serial #'] === w.certs[name]!.serial)!;
    expect(byName('never')).toMatchObject({ 'Is revoked?': 'Delayed', 'Revocation date': 'N/A', 'Revocation reason': 'N/A' });
    expect(byName('late')).toMatchObject({
      'Is revoked?': 'Yes',
      'Revocation date': iso(T0 + 30 * HOUR),
      'Revocation reason': 'keyCompromise',
    });
    expect(byName('on-time')['Is revoked?']).toBe('Yes');
    expect(byName('late').Source).toMatch(/^(crl|ocsp) /);
  });

  it('CSV carries the same fields, every SAN included', () => {
    const lines = parseCsv(toCsv(report));
    expect(lines[0]).toEqual([...CSV_HEADER]);
    const rows = lines.slice(1).map((l) => Object.fromEntries(l.map((v, i) => [CSV_HEADER[i]!, v])));
    expect(rows).toHaveLength(4);
    for (const c of report.certificates) {
      const row = rows.find((r) => r.serial === c.serial)!;
      expect(row).toMatchObject({
        sha256: c.sha256,
        subject_cn: c.subjectCN,
        sans: c.sans.join(' '),
        not_before: c.notBefore,
        not_after: c.notAfter,
        claimed_revocation_date: c.revocationTime ?? '',
        first_seen_revoked: c.firstSeenRevokedAt ?? '',
        last_seen_good: c.lastSeenGoodAt ?? '',
        verdict: c.verdict,
        late_by: c.lateBySeconds === null ? '' : formatDuration(c.lateBySeconds),
      });
    }
    expect(rows.find((r) => r.serial === w.certs.many!.serial)!.sans).toBe(MANY_SANS.join(' '));
    expect(rows.find((r) => r.serial === w.certs['on-time']!.serial)!.report_to_revocation_seconds).toBe('3600');
  });

  it('JSON carries the same fields', () => {
    const json = JSON.parse(toJson(report));
    expect(json.impact).toMatchObject({ certificates: 4, earliestNotBefore: iso(T0 - DAY), latestNotAfter: iso(T0 + 90 * DAY) });
    const never = json.certificates.find((c: { serial: string }) => c.serial === w.certs.never!.serial);
    expect(never).toMatchObject({
      subjectCN: 'never.example',
      sans: ['never.example'],
      verdict: 'overdue',
      lateBy: '2 d 4 h 10 m',
      reportToRevocationSeconds: null,
    });
    expect(json.firstSeenRevoked.map((b: { certificates: number }) => b.certificates)).toEqual([2, 1]);
    expect(JSON.stringify(json)).not.toMatch(/\.\d{3}Z/);
  });
});

describe('evidence bundle file names', () => {
  it('two OCSP answers observed in the same second (two responder URLs) get two files, none overwritten', async () => {
    const w = await makeWorld([{ name: 'one' }]);
    await w.check();
    const report = await buildCaseReport(w.store, 'c1', w.clock.now().getTime(), { allObservations: true, certificateBytes: true });
    const cert = report.certificates[0]!;
    const answer = cert.observations.find((o) => o.source.kind === 'ocsp' && o.raw !== null)!;
    const twice = {
      ...report,
      certificates: [
        { ...cert, observations: [answer, { ...answer, source: { kind: 'ocsp' as const, url: 'http://127.0.0.1:9/other' } }] },
      ],
    };
    const ocsp = toBundle(twice, () => null)
      .filter((f) => f.path.startsWith('ocsp/'))
      .map((f) => f.path);
    expect(ocsp).toHaveLength(2);
    expect(new Set(ocsp).size).toBe(2);
    expect(ocsp[1]).toMatch(/-2\.der$/);
  });
});

describe('formatDuration', () => {
  it('writes days, hours and minutes, leaving out zero units', () => {
    expect(formatDuration(2 * 86_400 + 4 * 3600 + 10 * 60)).toBe('2 d 4 h 10 m');
    expect(formatDuration(6 * 3600)).toBe('6 h');
    expect(formatDuration(86_400 + 59)).toBe('1 d');
    expect(formatDuration(30)).toBe('< 1 m');
    expect(formatDuration(0)).toBe('0 m');
    expect(formatDuration(-90 * 60)).toBe('-1 h 30 m');
  });
});
