/**
 * The mutation check for the rule engine: each mutant flips a boundary in the
 * rules (>= to >, < to <=, an inclusive second dropped) or makes a result
 * depend on the order answers arrived in, and the rule tests must fail on it.
 * Runs on a copy of the sources in a temporary directory, so the working tree
 * is never touched.
 *
 *   npx tsx test/mutation/run.ts            # every mutant
 *   npx tsx test/mutation/run.ts short-lived # those whose name contains the word
 *
 * Prints KILLED or SURVIVED per mutant; exits 1 when one survives.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

interface Mutant {
  readonly name: string;
  readonly file: string;
  readonly from: string;
  readonly to: string;
}

const MUTANTS: readonly Mutant[] = [
  {
    name: 'rule table: effectiveFrom >= becomes >',
    file: 'src/rules/rules.ts',
    from: '(from === null || reportedAt >= from)',
    to: '(from === null || reportedAt > from)',
  },
  {
    name: 'rule table: effectiveUntil < becomes <=',
    file: 'src/rules/rules.ts',
    from: '(until === null || reportedAt < until)',
    to: '(until === null || reportedAt <= until)',
  },
  {
    name: 'short-lived: issued-from >= becomes >',
    file: 'src/rules/rules.ts',
    from: 'notBefore >= Date.parse(l.issuedFrom)',
    to: 'notBefore > Date.parse(l.issuedFrom)',
  },
  {
    name: 'short-lived: validity <= becomes <',
    file: 'src/rules/rules.ts',
    from: 'validitySeconds <= limit.maxValiditySeconds',
    to: 'validitySeconds < limit.maxValiditySeconds',
  },
  {
    name: 'short-lived: the inclusive second dropped',
    file: 'src/rules/rules.ts',
    from: '(notAfter - notBefore) / 1000 + 1;',
    to: '(notAfter - notBefore) / 1000;',
  },
  {
    name: 'program: effectiveFrom >= becomes >',
    file: 'src/rules/programs.ts',
    from: 'at >= Date.parse(r.effectiveFrom)',
    to: 'at > Date.parse(r.effectiveFrom)',
  },
  {
    name: 'program: used only when strictly shorter',
    file: 'src/rules/rules.ts',
    from: 'program.mustHours! * HOUR <= clockStart',
    to: 'program.mustHours! * HOUR < clockStart',
  },
  {
    name: 'sub-CA reason code: duty date < becomes <=',
    file: 'src/rules/reason-codes.ts',
    from: 'if (at < caDuty.from) continue;',
    to: 'if (at <= caDuty.from) continue;',
  },
  {
    name: 'TLS reason codes: BR date >= becomes >',
    file: 'src/rules/reason-codes.ts',
    from: 'if (at >= TLS_REASON_CODES_FROM)',
    to: 'if (at > TLS_REASON_CODES_FROM)',
  },
  {
    name: 'TLS reason codes: MRSP date >= becomes >',
    file: 'src/rules/reason-codes.ts',
    from: 'if (at >= MOZILLA_TLS_REASON_CODES_FROM)',
    to: 'if (at > MOZILLA_TLS_REASON_CODES_FROM)',
  },
  {
    name: 'subscriber request: affiliationChanged dropped',
    file: 'src/rules/reason-codes.ts',
    from: 'new Set([null, 1, 3, 4, 5])',
    to: 'new Set([null, 1, 4, 5])',
  },
  {
    name: 'later keyCompromise: info becomes violation',
    file: 'src/rules/reason-codes.ts',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text of src/rules/reason-codes.ts that the mutant replaces
    from: "severity: 'info',\n        message: `${where} gives keyCompromise",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the mutant's source text
    to: "severity: 'violation',\n        message: `${where} gives keyCompromise",
  },
  {
    name: 'sub-CA reason code: unspecified (0) accepted',
    file: 'src/rules/reason-codes.ts',
    from: 'if (code === null || code === 0) {',
    to: 'if (code === null) {',
  },
  {
    name: 'code-signing backdating: || becomes &&',
    file: 'src/rules/backdating.ts',
    from: '(keyCompromise || CODE_SIGNING_HISTORIC_REASONS.has(kase.reason))',
    to: '(keyCompromise && CODE_SIGNING_HISTORIC_REASONS.has(kase.reason))',
  },
  {
    name: 'incident duty: from >= becomes >',
    file: 'src/rules/incident-duties.ts',
    from: 'deadline >= Date.parse(d.from)',
    to: 'deadline > Date.parse(d.from)',
  },
  {
    name: 'incident duty: until < becomes <=',
    file: 'src/rules/incident-duties.ts',
    from: 'deadline < Date.parse(d.until)',
    to: 'deadline <= Date.parse(d.until)',
  },
  {
    name: 'rule version: from <= becomes <',
    file: 'src/rules/rule-versions.ts',
    from: 'for (const v of dated) if (Date.parse(v.effectiveFrom!) <= at) inForce = v;',
    to: 'for (const v of dated) if (Date.parse(v.effectiveFrom!) < at) inForce = v;',
  },
  {
    name: 'PR 622: actionable clamp min becomes max',
    file: 'src/rules/rule-versions.ts',
    from: 'return Math.min(Math.max(kase.confirmedAt, kase.reportedAt), latest);',
    to: 'return Math.max(Math.max(kase.confirmedAt, kase.reportedAt), latest);',
  },
  {
    name: 'PR 622: OCSP no longer required',
    file: 'src/rules/verdict.ts',
    from: "if (says('crl') && (cert.ocspUrls.length === 0 || says('ocsp'))) return evidence;",
    to: "if (says('crl') && (cert.ocspUrls.length >= 0 || says('ocsp'))) return evidence;",
  },
  {
    name: 'PR 622: either source enough',
    file: 'src/rules/verdict.ts',
    from: "if (says('crl') && (cert.ocspUrls.length === 0 || says('ocsp'))) return evidence;",
    to: "if (says('crl') || says('ocsp')) return evidence;",
  },
  {
    name: 'evidence bound: a later good no longer moves the effective time',
    file: 'src/rules/evidence.ts',
    from: 'const effective = claimed === null ? null : goodBoundAt !== null && goodBoundAt > claimed ? goodBoundAt : claimed;',
    to: 'const effective = claimed;',
  },
  {
    name: 'evidence bound: goods after expiry count',
    file: 'src/rules/evidence.ts',
    from: 'filter: (o, notAfter) => isGood(o) && evidenceTime(o) <= notAfter, rank: evidenceTime',
    to: 'filter: (o) => isGood(o), rank: evidenceTime',
  },
  {
    name: 'order: the later arrival wins a tie',
    file: 'src/rules/evidence.ts',
    from: 'return observationKey(a) > observationKey(b);',
    to: 'return true;',
  },
  {
    name: 'order: reason codes from the last claim only',
    file: 'src/rules/verdict.ts',
    from: 'reason_code_mismatch: ({ kase, cert, evidence, rules }) => reasonCodeFindings(kase, cert, evidence.reasonClaims,',
    to: 'reason_code_mismatch: ({ kase, cert, evidence, rules }) => reasonCodeFindings(kase, cert, evidence.reasonClaims.slice(-1),',
  },
];

const TESTS = ['test/unit/rules', 'test/unit/cli'];
const repo = resolve(import.meta.dirname, '..', '..');

function runTests(dir: string): boolean {
  const r = spawnSync(process.execPath, [join(dir, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...TESTS], {
    cwd: dir,
    encoding: 'utf8',
  });
  return r.status === 0;
}

function main(): number {
  const filters = process.argv.slice(2);
  const chosen = MUTANTS.filter((m) => filters.length === 0 || filters.some((f) => m.name.includes(f)));
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-mutants-'));
  try {
    for (const entry of ['src', 'functions', 'infra', 'test', 'package.json', 'tsconfig.json'])
      cpSync(join(repo, entry), join(dir, entry), { recursive: true });
    symlinkSync(realpathSync(join(repo, 'node_modules')), join(dir, 'node_modules'));
    // The rule tests run in-process: no build of dist/ before each mutant (the global setup's job for e2e tests).
    writeFileSync(
      join(dir, 'vitest.config.ts'),
      "import { defineConfig } from 'vitest/config';\nexport default defineConfig({ test: { include: ['test/**/*.test.ts'], pool: 'forks' } });\n",
    );
    if (!runTests(dir)) {
      console.log('the unmutated sources fail the rule tests: fix them first');
      return 1;
    }
    let survived = 0;
    for (const m of chosen) {
      const path = join(dir, m.file);
      const original = readFileSync(path, 'utf8');
      if (original.split(m.from).length !== 2)
        throw new Error(`mutant "${m.name}": the text to change is not found exactly once in ${m.file}`);
      writeFileSync(path, original.replace(m.from, m.to));
      const killed = !runTests(dir);
      writeFileSync(path, original);
      if (!killed) survived++;
      console.log(`${killed ? 'KILLED  ' : 'SURVIVED'}  ${m.name}`);
    }
    console.log(`${chosen.length - survived} of ${chosen.length} mutants killed`);
    return survived === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
