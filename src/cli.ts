/**
 * The `revwatch` command. Thin: parse arguments, read files, call the core,
 * print. Exit codes (design.md): 0 done; 1 bad input or usage (one line on
 * stderr, nothing written); 2 finished, but some sources could not be read;
 * 3 (`inspect`) read, but not valid evidence; 70 an internal error, only
 * ever a bug.
 */
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { SystemClock } from './clock.js';
import { HttpFetcher } from './net/http-fetcher.js';
import { OcspClient } from './net/ocsp-client.js';
import { InputError, readCertificates, type CertificateInfo } from './pki/certificate.js';
import { OcspIssuer, buildOcspRequest, ocspGetUrl } from './pki/ocsp.js';
import { DEFAULT_CRL_MAX_BYTES, DEFAULT_OCSP_MAX_BYTES } from './check/probe.js';
import { NotEvidenceError, certificateFromFile, crlEvidenceProblem, formatCrlInspection, formatOcspInspection, inspectCrl, inspectOcsp, ocspEvidenceProblem } from './inspect.js';
import { isoOrNull, parseInstant } from './time.js';
import { deadlineReport, formatDeadlineReport, parseKind, parseReason } from './rules/deadline-report.js';
import { NOTIFYING_PARTIES, parseNotifiedBy } from './rules/programs.js';
import type { Clock, FetchResult } from './ports.js';
import { openAwsStore, openEmbeddedStore, type OpenStore } from './store/embedded.js';
import { collectInputs } from './cli-inputs.js';
import { askResponder, certificatesIn, responderFromCertificate, sourceUrlOption } from './cli-sources.js';
import { disclosedCrlsForTrack, registerCcadb } from './cli-ccadb.js';
import { DisclosureStore } from './ccadb/store.js';
import { archiveFromEnv, readArchivedCrls } from './cli-archive.js';
import type { EvidenceArchive } from './archive/evidence-archive.js';
import { describeAwsSetupError, ensureHomeDirectory, fetchDeadlinesFromEnv, makeOutDir, oneLine, parseCaseId, parseReportUrl, requireEmailAddress, requireNotFuture, writeOutFile } from './cli-validate.js';
import { defaultCaseId, trackCertificates } from './check/track.js';
import { runCheck, type CheckSummary, type ProgressSink } from './check/run-check.js';
import { DEFAULT_OCSP_INTERVAL_MS, DEFAULT_OCSP_PER_HOST, OCSP_INTERVAL_MS_RANGE, OCSP_PER_HOST_RANGE, parseOcspLimit } from './check/ocsp-limits.js';
import { jsonStatusSink, streamStatus, textStatusSink } from './check/status.js';
import { formatVerifyEvidence, verifyEvidence } from './check/verify-evidence.js';
import { runDemo } from './demo.js';
import { buildCaseReport } from './report/case-report.js';
import { toBundle, toCsv, toHtml, toJson, toMarkdown } from './report/formats.js';
import { formatDigest, produceDigest } from './report/digest.js';
import { notifyChangedCases, type NotifyResult } from './notify/notices.js';
import { OutboxMailer } from './notify/outbox-mailer.js';
import { SesMailer } from './notify/ses-mailer.js';
import { SESClient } from '@aws-sdk/client-ses';
import type { Case } from './domain.js';
import { SingleBar, Presets } from 'cli-progress';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly clock: Clock;
  /** True when stderr is a terminal: progress bars are drawn only then. */
  readonly interactive?: boolean;
  /** Resolves once stdout has room again (a pipe whose reader lags): long outputs wait instead of queueing. */
  readonly drain?: () => Promise<void>;
  /** AWS mode's evidence archive; by default the S3 bucket REVWATCH_EVIDENCE_BUCKET names (tests pass their own). */
  readonly evidenceArchive?: EvidenceArchive;
}

/** A remote source could not be read: exit 2 after printing what is known. */
class SourceUnreadableError extends Error {}

/** verify-evidence found a stored record that its observations do not rebuild: exit 1 after the details. */
class EvidenceMismatchError extends Error {}

interface GlobalOptions {
  json?: boolean;
  home?: string;
  allowPrivateNetwork?: boolean;
  aws?: boolean;
}

const isUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

async function readInput(path: string, what: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new InputError(`cannot read ${what} ${path}: ${why}`);
  }
}

function ocspLimit(text: string, option: string, range: { min: number; max: number }): number {
  const n = parseOcspLimit(text, option, range);
  if (typeof n === 'string') throw new InputError(n);
  return n;
}

function requireFetched(result: FetchResult): Uint8Array {
  if (!result.ok) throw new SourceUnreadableError(`could not read ${result.url}: ${result.message}`);
  return result.body;
}

export function buildProgram(io: CliIo): Command {
  const program = new Command();
  const print = (value: unknown, human: () => string): void => {
    const json = program.opts<GlobalOptions>().json;
    io.stdout(`${json ? JSON.stringify(value, null, 2) : human()}\n`);
  };
  const fetcher = (): HttpFetcher => new HttpFetcher({ clock: io.clock, allowPrivateNetwork: program.opts<GlobalOptions>().allowPrivateNetwork === true, ...fetchDeadlinesFromEnv(io.env) });
  const at = (value: string | undefined): number => (value ? parseInstant(value, '--at') : io.clock.now().getTime());
  const optionalCert = async (path: string | undefined, what: string): Promise<CertificateInfo | null> =>
    path ? certificateFromFile(await readInput(path, what), path) : null;
  const home = (): string => resolve(program.opts<GlobalOptions>().home ?? io.env.REVWATCH_HOME ?? '.revwatch');
  /** Local mode (embedded dynalite under --home) unless --aws or REVWATCH_TABLE names the deployed table. */
  const withStore = async <T>(fn: (open: OpenStore) => Promise<T>): Promise<T> => {
    const table = io.env.REVWATCH_TABLE;
    if (program.opts<GlobalOptions>().aws && !table) throw new InputError('--aws needs REVWATCH_TABLE set to the deployed table name');
    if (!table) ensureHomeDirectory(home());
    const open = table ? openAwsStore(table) : await openEmbeddedStore(home(), { onLockWait: (message) => io.stderr(`revwatch: ${oneLine(message)}\n`) });
    try {
      return await fn(open);
    } finally {
      await open.close();
    }
  };

  program
    .name('revwatch')
    .description('Holds Certificate Authorities to their Baseline Requirements revocation deadlines, with signed evidence.')
    .option('--home <dir>', 'where local data is kept (default ./.revwatch, or REVWATCH_HOME)')
    .option('--json', 'machine-readable output')
    .option('--allow-private-network', 'allow responders on loopback or private addresses (local CAs, tests)')
    .option('--aws', 'use the deployed DynamoDB table (or set REVWATCH_TABLE)')
    .showHelpAfterError(false)
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride();

  program
    .command('deadline')
    .description('print the MUST and SHOULD revocation deadlines for a report, with the rule and its source')
    .requiredOption('--reported-at <ISO-8601>', 'when the CA was made aware (the clock start, BR 4.9.5)')
    .requiredOption('--reason <slug>', 'why the certificate must be revoked (see rules.md)')
    .option('--kind <kind>', 'tls-subscriber, tls-subca, smime-subscriber, smime-subca, codesigning-subscriber or codesigning-subca', 'tls-subscriber')
    .option('--notified-by <party>', `the root program that notified the CA (${NOTIFYING_PARTIES.join(', ')})`)
    .action((opts: { reportedAt: string; reason: string; kind: string; notifiedBy?: string }) => {
      const reportedAt = parseInstant(opts.reportedAt, '--reported-at');
      const kind = parseKind(opts.kind);
      const reason = parseReason(opts.reason, kind);
      const report = deadlineReport(kind, reason, reportedAt, { notifiedBy: parseNotifiedBy(opts.notifiedBy) });
      print(report, () => formatDeadlineReport(report, reportedAt));
    });

  program
    .command('track <inputs...>')
    .description('track certificates (PEM/DER files, directories, crtsh:<id>, crt.sh URLs, SHA-256 fingerprints) under a case')
    .requiredOption('--reported-at <ISO-8601>', 'when the CA was made aware (the clock start, BR 4.9.5)')
    .requiredOption('--reason <slug>', 'why the certificates must be revoked')
    .option('--kind <kind>', 'certificate kind', 'tls-subscriber')
    .option('--case <id>', 'case id (default: derived from the facts, so re-tracking reaches the same case)', parseCaseId)
    .option('--title <text>', 'a title for the case')
    .option('--report-url <url>', 'the incident bug or report (http or https)', parseReportUrl)
    .option('--confirmed-at <ISO-8601>', 'when the CA confirmed the problem, if later than the report')
    .option('--notified-by <party>', `the root program that notified the CA (${NOTIFYING_PARTIES.join(', ')})`)
    .option('--delayed-report-url <url>', "the CA's delayed-revocation incident report, once filed")
    .option('--issuer <file>', 'issuer certificate(s) (PEM or DER)')
    .addOption(new Option('--notify <email>', 'who gets notices for this case (repeatable)').argParser((v: string, prev: string[] = []) => [...prev, v]))
    .addOption(new Option('--crtsh-url <url>', 'crt.sh base URL').default('https://crt.sh').hideHelp())
    .option('--certs-dir <dir>', 'for crtsh-json:<file>: the certificates, as DER or PEM files named by crt.sh id or SHA-256 fingerprint')
    .addOption(new Option('--crl-url <url>', 'a CRL to check these certificates against, besides their own (repeatable)').argParser(sourceUrlOption('--crl-url')))
    .addOption(new Option('--ocsp-url <url>', 'an OCSP responder to ask about these certificates, besides their own (repeatable)').argParser(sourceUrlOption('--ocsp-url')))
    .action(async (inputs: string[], opts: { reportedAt: string; reason: string; kind: string; case?: string; title?: string; reportUrl?: string; confirmedAt?: string; notifiedBy?: string; delayedReportUrl?: string; issuer?: string; notify?: string[]; crtshUrl: string; crlUrl?: string[]; ocspUrl?: string[]; certsDir?: string }) => {
      const reportedAt = requireNotFuture(parseInstant(opts.reportedAt, '--reported-at'), io.clock.now().getTime(), '--reported-at');
      const confirmedAt = opts.confirmedAt ? requireNotFuture(parseInstant(opts.confirmedAt, '--confirmed-at'), io.clock.now().getTime(), '--confirmed-at') : null;
      const kind = parseKind(opts.kind);
      const reason = parseReason(opts.reason, kind);
      const notifiedBy = parseNotifiedBy(opts.notifiedBy);
      for (const n of opts.notify ?? []) requireEmailAddress(n);
      const given = opts.issuer ? readCertificates(await readInput(opts.issuer, 'issuer'), opts.issuer) : [];
      const f = fetcher();
      try {
        const skipped: { file: string; line: number; why: string }[] = [];
        const entries = await collectInputs(inputs, { fetcher: f, crtshBaseUrl: io.env.REVWATCH_CRTSH_URL ?? opts.crtshUrl, certsDir: opts.certsDir, onSkipped: (file, rows) => skipped.push(...rows.map((r) => ({ file, ...r }))) });
        const title = opts.title ?? `${reason} reported ${new Date(reportedAt).toISOString()}`;
        const facts = { reportedAt, reason, kind, title, notifiedBy };
        const kase: Case = { id: opts.case ?? defaultCaseId(facts), ...facts, confirmedAt, reportUrl: opts.reportUrl ?? null, notify: opts.notify ?? [], delayedReportUrl: opts.delayedReportUrl ?? null };
        const fetchCaIssuers = async (url: string): Promise<Uint8Array> => {
          const r = await f.fetch({ url, maxBytes: 1024 * 1024 });
          if (!r.ok) throw new Error(r.message);
          return r.body;
        };
        const result = await withStore(({ store }) =>
          trackCertificates({ store, clock: io.clock, fetchCaIssuers, disclosedCrlsOf: disclosedCrlsForTrack(new DisclosureStore(store.table)) }, kase, entries, given, { crlUrls: opts.crlUrl, ocspUrls: opts.ocspUrl }),
        );
        print(skipped.length ? { ...result, skipped } : result, () =>
          [`case ${result.caseId}${result.caseCreated ? ' (new)' : ''}: ${result.added} certificate(s) added, ${result.alreadyTracked} already tracked`, ...skipped.map((s) => `  ${s.file} line ${s.line}: not tracked: ${s.why}`)].join('\n'),
        );
      } finally {
        await f.close();
      }
    });

  program
    .command('check')
    .description('poll the CRLs and OCSP responders of every tracked certificate and record what changed')
    .option('--case <id>', 'only this case', parseCaseId)
    .option('--ocsp-per-host <n>', 'OCSP requests in flight per responder host', String(DEFAULT_OCSP_PER_HOST))
    .option('--ocsp-interval-ms <ms>', 'minimum milliseconds between two requests to one responder host', String(DEFAULT_OCSP_INTERVAL_MS))
    .action(async (opts: { case?: string; ocspPerHost: string; ocspIntervalMs: string }) => {
      const ocspPerHost = ocspLimit(opts.ocspPerHost, '--ocsp-per-host', OCSP_PER_HOST_RANGE);
      const ocspMinIntervalMs = ocspLimit(opts.ocspIntervalMs, '--ocsp-interval-ms', OCSP_INTERVAL_MS_RANGE);
      const f = fetcher();
      // OCSP exchanges take the keep-alive node:http path; CRLs and everything else go through `f`.
      const ocsp = new OcspClient({ fallback: f, allowPrivateNetwork: program.opts<GlobalOptions>().allowPrivateNetwork === true, timeoutMs: fetchDeadlinesFromEnv(io.env).ocspDeadlineMs });
      let summary: CheckSummary;
      let notices: NotifyResult[] = [];
      const notes: string[] = [];
      try {
        summary = await withStore(async ({ store }) => {
          if (opts.case && !(await store.getCase(opts.case))) throw new InputError(`no case "${opts.case}"`);
          const crlDir = join(home(), 'crls');
          const result = await runCheck({
            store,
            fetcher: ocsp,
            clock: io.clock,
            progress: io.interactive && !program.opts<GlobalOptions>().json ? progressBar() : undefined,
            saveCrl: program.opts<GlobalOptions>().aws || io.env.REVWATCH_TABLE ? undefined : async (sha, bytes) => {
              mkdirSync(crlDir, { recursive: true });
              writeFileSync(join(crlDir, `${sha}.crl`), bytes);
            },
          }, { caseId: opts.case, ocspPerHost, ocspMinIntervalMs, disclosures: new DisclosureStore(store.table) });
          // Notices go out after every check: SES in AWS mode, the local outbox otherwise.
          const aws = Boolean(program.opts<GlobalOptions>().aws || io.env.REVWATCH_TABLE);
          const mailer = aws ? new SesMailer(new SESClient({})) : new OutboxMailer(join(home(), 'outbox'), (line) => notes.push(line));
          notices = await notifyChangedCases({ store, ledger: store, mailer, clock: io.clock, from: io.env.REVWATCH_SENDER ?? 'revwatch@localhost' }, { caseId: opts.case });
          return result;
        });
      } finally {
        await ocsp.close();
        await f.close();
      }
      print({ ...summary, notices }, () => [formatSummary(summary), ...notes, ...notices.filter((n) => n.error).map((n) => `  notice for case ${n.caseId} not sent (will retry): ${n.error}`)].join('\n'));
      if (summary.failedSources.length > 0) throw new SourceUnreadableError(`${summary.failedSources.length} source(s) could not be read`);
    });

  program
    .command('status')
    .description('deadlines, verdicts and findings for every tracked certificate')
    .option('--case <id>', 'only this case', parseCaseId)
    .option('--rules-as-of <ISO-8601>', 'judge every case under the rules in force at this time instead of when it was reported')
    .action(async (opts: { case?: string; rulesAsOf?: string }) => {
      const rulesAsOf = opts.rulesAsOf ? parseInstant(opts.rulesAsOf, '--rules-as-of') : undefined;
      const shown = { ...(rulesAsOf === undefined ? {} : { rulesAsOf: isoOrNull(rulesAsOf)! }), drain: io.drain };
      // Written as judged: at incident scale neither the verdicts nor their text are held at once.
      const sink = program.opts<GlobalOptions>().json ? jsonStatusSink(io.stdout, shown) : textStatusSink(io.stdout, shown);
      await withStore(({ store }) => streamStatus(store, io.clock.now().getTime(), sink, opts.case, undefined, { rulesAsOf, disclosures: new DisclosureStore(store.table) }));
      sink.end();
    });

  program
    .command('report')
    .description('the evidence report of a case: markdown (incident bug), csv, json, html, or an evidence bundle')
    .requiredOption('--case <id>', 'the case', parseCaseId)
    .addOption(new Option('--format <format>', 'output format').choices(['markdown', 'csv', 'json', 'html', 'bundle']).default('markdown'))
    .option('--out <path>', 'write to this file (a directory for --format bundle) instead of stdout')
    .action(async (opts: { case: string; format: string; out?: string }) => {
      if (opts.format === 'bundle' && !opts.out) throw new InputError('--format bundle needs --out <directory>');
      const crlPath = (sha: string): string => join(home(), 'crls', `${sha}.crl`);
      const local = !(program.opts<GlobalOptions>().aws || io.env.REVWATCH_TABLE);
      const report = await withStore(({ store }) =>
        buildCaseReport(store, opts.case, io.clock.now().getTime(), {
          crlFile: (sha) => (local && existsSync(crlPath(sha)) ? crlPath(sha) : null),
          allObservations: opts.format === 'json' || opts.format === 'bundle',
          disclosures: new DisclosureStore(store.table),
        }),
      );
      if (opts.format === 'bundle') {
        // AWS mode: the CRLs the worker archived in the evidence bucket, when REVWATCH_EVIDENCE_BUCKET names it.
        const archive = local ? null : (io.evidenceArchive ?? archiveFromEnv(io.env));
        const archived = archive ? await readArchivedCrls(archive, report.crls.map((c) => c.sha256)) : new Map<string, Uint8Array>();
        const files = toBundle(report, (sha) => (local ? (existsSync(crlPath(sha)) ? readFileSync(crlPath(sha)) : null) : (archived.get(sha) ?? null)));
        for (const f of files) {
          const target = join(opts.out!, f.path);
          makeOutDir(join(target, '..'), `--out directory ${opts.out}`);
          writeOutFile(target, f.bytes);
        }
        io.stdout(`wrote ${files.length} files to ${opts.out}: check them with \`cd ${opts.out} && sha256sum -c SHA256SUMS\`\n`);
        return;
      }
      const text = opts.format === 'csv' ? toCsv(report) : opts.format === 'json' ? toJson(report) : opts.format === 'html' ? toHtml(report) : toMarkdown(report);
      if (opts.out) {
        writeOutFile(opts.out, text);
        io.stdout(`wrote ${opts.out}\n`);
      } else io.stdout(text);
    });

  program
    .command('verify-evidence')
    .description('rebuild every evidence record from the observations and compare (exit 1 when one differs)')
    .option('--case <id>', 'only this case', parseCaseId)
    .action(async (opts: { case?: string }) => {
      const result = await withStore(({ store }) => verifyEvidence(store, opts.case));
      print(result, () => formatVerifyEvidence(result));
      if (result.differences.length > 0) throw new EvidenceMismatchError(`${result.differences.length} evidence record(s) differ from their rebuild from the observations`);
    });

  program
    .command('digest')
    .description('a digest for the policy forum: per CA, open cases, revoked on time and late, overdue, new findings')
    .option('--since <ISO-8601>', 'count findings as new since this time (default: the previous digest, or a week ago)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'markdown']).default('text'))
    .action(async (opts: { since?: string; format: 'text' | 'markdown' }) => {
      const now = io.clock.now().getTime();
      const since = opts.since ? parseInstant(opts.since, '--since') : undefined;
      await withStore(({ store }) => produceDigest(store, now, since, async (digest) => print(digest, () => formatDigest(digest, opts.format))));
    });

  program
    .command('demo')
    .description('a self-contained run: a local CA, a staged incident, track, check and status (no network, no openssl)')
    .action(async () => {
      const given = program.opts<GlobalOptions>().home;
      await runDemo({ io, home: given ? resolve(given) : undefined, runCli: (argv, demoIo) => run(argv, { ...demoIo, interactive: false }) });
    });

  registerCcadb(program, { clock: io.clock, withStore, fetcher, print });

  const inspect = program.command('inspect').description('read a CRL or an OCSP response and say what it claims and whether it verifies');

  inspect
    .command('crl <source>')
    .description('inspect a CRL file or URL (DER or PEM)')
    .option('--issuer <file>', 'the CRL issuer certificate, to verify the signature')
    .addOption(new Option('--serial <hex>', 'look up this serial (repeatable)').argParser((v: string, prev: string[] = []) => [...prev, v]))
    .option('--at <ISO-8601>', 'judge freshness at this time (default now)')
    .action(async (source: string, opts: { issuer?: string; serial?: string[]; at?: string }) => {
      const when = at(opts.at);
      const issuer = await optionalCert(opts.issuer, 'issuer');
      let bytes: Uint8Array;
      if (isUrl(source)) {
        const f = fetcher();
        try {
          bytes = requireFetched(await f.fetch({ url: source, maxBytes: DEFAULT_CRL_MAX_BYTES, purpose: 'crl' }));
        } finally {
          await f.close();
        }
      } else {
        bytes = await readInput(source, 'CRL');
      }
      const report = await inspectCrl(bytes, source, { issuer, serials: opts.serial ?? [], at: when });
      print(report, () => formatCrlInspection(report));
      const notEvidence = crlEvidenceProblem(report);
      if (notEvidence) throw new NotEvidenceError(notEvidence);
    });

  inspect
    .command('ocsp <source>')
    .description('inspect an OCSP response file, ask a responder URL about --cert, or ask a certificate file\'s own responder (AIA) about it')
    .option('--issuer <file>', 'the issuer certificate, to verify the signature and CertID')
    .option('--cert <file>', 'the certificate asked about (required with a URL)')
    .option('--at <ISO-8601>', 'judge staleness at this time (default now)')
    .action(async (source: string, opts: { issuer?: string; cert?: string; at?: string }) => {
      const when = at(opts.at);
      const issuer = await optionalCert(opts.issuer, 'issuer');
      const cert = await optionalCert(opts.cert, 'certificate');
      let bytes: Uint8Array;
      if (isUrl(source)) {
        if (!cert || !issuer) throw new InputError('inspect ocsp <url> needs --cert and --issuer to build the request');
        const request = buildOcspRequest(cert.serial, new OcspIssuer(issuer.raw));
        const f = fetcher();
        try {
          let result = await f.fetch({ url: source, method: 'POST', body: request, headers: { 'content-type': 'application/ocsp-request' }, maxBytes: DEFAULT_OCSP_MAX_BYTES, purpose: 'ocsp' });
          if (!result.ok && result.kind === 'http-status' && (result.status === 405 || result.status === 501)) {
            result = await f.fetch({ url: ocspGetUrl(source, request), maxBytes: DEFAULT_OCSP_MAX_BYTES, purpose: 'ocsp' });
          }
          bytes = requireFetched(result);
        } finally {
          await f.close();
        }
      } else {
        bytes = await readInput(source, 'OCSP response');
        const certs = certificatesIn(bytes, source);
        if (certs) {
          // A certificate, not a response: ask its own responder, with its issuer from --issuer, the file or caIssuers.
          const f = fetcher();
          try {
            const target = await responderFromCertificate(certs, source, issuer, f);
            bytes = requireFetched(await askResponder(f, target.url, target.cert, target.issuer));
            const report = inspectOcsp(bytes, target.url, { issuer: target.issuer, cert: target.cert, at: when });
            print(report, () => formatOcspInspection(report));
            const notEvidence = ocspEvidenceProblem(report);
            if (notEvidence) throw new NotEvidenceError(notEvidence);
            return;
          } finally {
            await f.close();
          }
        }
      }
      const report = inspectOcsp(bytes, source, { issuer, cert, at: when });
      print(report, () => formatOcspInspection(report));
      const notEvidence = ocspEvidenceProblem(report);
      if (notEvidence) throw new NotEvidenceError(notEvidence);
    });

  return program;
}

function progressBar(): ProgressSink {
  const bar = new SingleBar({ format: '{label} [{bar}] {value}/{total} sources', stream: process.stderr, clearOnComplete: true, hideCursor: true }, Presets.shades_classic);
  return {
    start: (total, label) => bar.start(total, 0, { label }),
    increment: (by = 1) => bar.increment(by),
    stop: () => bar.stop(),
  };
}

function formatSummary(s: CheckSummary): string {
  const lines = [
    `checked ${s.certificates} certificate(s): ${s.crlsFetched} CRL fetch(es), ${s.ocspRequests} OCSP request(s); ${s.notDue} not due (settled, or expired and judged)${s.retiredExpired ? `, ${s.retiredExpired} expired certificate(s) judged and retired` : ''}`,
    `${s.changes.length} change(s), ${s.observationsWritten} observation(s) recorded, ${s.itemsWritten} item(s) written, ${((s.finishedAt - s.startedAt) / 1000).toFixed(1)} s`,
    `verdicts of the certificates checked in this run: ${Object.entries(s.verdicts).filter(([, n]) => n > 0).map(([v, n]) => `${v} ${n}`).join(', ') || 'none'} (revwatch status judges every certificate, with the CRL snapshots too)`,
  ];
  for (const c of s.changes.slice(0, 20)) lines.push(`  ${c.serial}  ${c.source}: ${c.from} -> ${c.to}`);
  if (s.changes.length > 20) lines.push(`  ... and ${s.changes.length - 20} more`);
  for (const f of s.failedSources) lines.push(`  could not read ${f.kind} ${f.url}: ${f.error}`);
  return lines.join('\n');
}

/** Runs the CLI and returns the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; commander has already printed the usage error line.
      return err.exitCode === 0 ? 0 : 1;
    }
    if (err instanceof InputError) {
      io.stderr(`revwatch: ${oneLine(err.message)}\n`);
      return 1;
    }
    if (err instanceof EvidenceMismatchError) {
      io.stderr(`revwatch: ${oneLine(err.message)}\n`);
      return 1;
    }
    const awsSetup = describeAwsSetupError(err);
    if (awsSetup) {
      io.stderr(`revwatch: ${awsSetup}\n`);
      return 1;
    }
    if (err instanceof NotEvidenceError) {
      io.stderr(`revwatch: not valid evidence: ${oneLine(err.message)}\n`);
      return 3;
    }
    if (err instanceof SourceUnreadableError) {
      io.stderr(`revwatch: ${err.message}\n`);
      return 2;
    }
    io.stderr(`revwatch: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return 70;
  }
}

export function processIo(): CliIo {
  return {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    clock: new SystemClock(),
    interactive: process.stderr.isTTY === true,
    drain: () => (process.stdout.writableNeedDrain ? once(process.stdout, 'drain').then(() => undefined) : Promise.resolve()),
  };
}
