/** `revwatch track`: read the certificates named, and record them under a case. */
import { Option, type Command } from 'commander';
import { parseCaseId, parseDelayedReportUrl, parseReportUrl, parseTitle, sourceUrlOption } from '../validate.js';
import { NOTIFYING_PARTIES } from '../../rules/programs.js';
import { collect, type CliContext } from '../context.js';

export interface TrackOptions {
  reportedAt?: string;
  reason?: string;
  kind?: string;
  rule?: string;
  case?: string;
  title?: string;
  reportUrl?: string;
  confirmedAt?: string;
  notifiedBy?: string;
  notifiedAt?: string;
  preliminaryReportAt?: string;
  delayedReportUrl?: string;
  issuer?: string;
  notify?: string[];
  crtshUrl: string;
  crlUrl?: string[];
  ocspUrl?: string[];
  certsDir?: string;
  appendix?: string;
}

export function registerTrack(program: Command, ctx: CliContext): void {
  program
    .command('track [inputs...]')
    .description(
      'track certificates (PEM/DER files, directories, crtsh:<id>, crt.sh URLs, SHA-256 fingerprints, crtsh-json:<file>) under a case',
    )
    .option('--reported-at <ISO-8601>', 'when the CA was made aware (the clock start, BR 4.9.5); required unless --rule')
    .option('--reason <slug>', 'why the certificates must be revoked; required unless --rule')
    .option('--kind <kind>', "certificate kind (default: tls-subscriber, or the rule's)")
    .option('--rule <id>', 'a fixed-date rule (sha1-subca-sunset): its date is the deadline')
    .option('--case <id>', 'case id (default: derived from the facts, so re-tracking reaches the same case)', parseCaseId)
    .option('--title <text>', 'a title for the case (one line)', parseTitle)
    .option('--report-url <url>', 'the incident bug or report (http or https)', parseReportUrl)
    .option('--confirmed-at <ISO-8601>', 'when the CA confirmed the problem, if later than the report')
    .option('--notified-by <party>', `the root program that notified the CA (${NOTIFYING_PARTIES.join(', ')})`)
    .option('--notified-at <ISO-8601>', "when that program's notice came, if after the report: its deadline counts from it")
    .option(
      '--preliminary-report-at <ISO-8601|none>',
      'when the CA sent its preliminary report on the problem report (BR 4.9.5: within 24 hours), or none',
    )
    .option('--delayed-report-url <url>', "the CA's delayed-revocation incident report, once filed", parseDelayedReportUrl)
    .option('--issuer <file>', 'issuer certificate(s) (PEM or DER)')
    .addOption(new Option('--notify <email>', 'who gets notices for this case (repeatable)').argParser(collect))
    .addOption(new Option('--crtsh-url <url>', 'crt.sh base URL').default('https://crt.sh').hideHelp())
    .option(
      '--certs-dir <dir>',
      'for crtsh-json:<file> and --appendix: the certificates, as DER or PEM files named by crt.sh id or SHA-256 fingerprint',
    )
    .option('--appendix <file.csv>', "a CA's incident appendix (CCADB IRG columns): track each row by issuer and serial")
    .addOption(
      new Option('--crl-url <url>', 'a CRL to check these certificates against, besides their own (repeatable)').argParser(
        sourceUrlOption('--crl-url'),
      ),
    )
    .addOption(
      new Option('--ocsp-url <url>', 'an OCSP responder to ask about these certificates, besides their own (repeatable)').argParser(
        sourceUrlOption('--ocsp-url'),
      ),
    )
    .action(async (inputs: string[], opts: TrackOptions) => (await import('../track-run.js')).track(ctx, inputs, opts));
}
