/** `revwatch inspect crl|ocsp`: what one CRL or OCSP response claims, and whether it is valid evidence (exit 3 when not). */
import { Option, type Command } from 'commander';
import { collect, type CliContext } from '../context.js';

export interface InspectCrlOptions {
  issuer?: string;
  serial?: string[];
  at?: string;
}

export interface InspectOcspOptions {
  issuer?: string;
  cert?: string;
  at?: string;
}

export function registerInspect(program: Command, ctx: CliContext): void {
  const inspect = program.command('inspect').description('read a CRL or an OCSP response and say what it claims and whether it verifies');

  inspect
    .command('crl <source>')
    .description('inspect a CRL file or URL (DER or PEM)')
    .option('--issuer <file>', 'the CRL issuer certificate, to verify the signature')
    .addOption(new Option('--serial <hex>', 'look up this serial (repeatable)').argParser(collect))
    .option('--at <ISO-8601>', 'judge freshness at this time (default now)')
    .action(async (source: string, opts: InspectCrlOptions) => (await import('../inspect-run.js')).inspectCrlCommand(ctx, source, opts));

  inspect
    .command('ocsp <source>')
    .description(
      "inspect an OCSP response file, ask a responder URL about --cert, or ask a certificate file's own responder (AIA) about it",
    )
    .option('--issuer <file>', 'the issuer certificate, to verify the signature and CertID')
    .option('--cert <file>', 'the certificate asked about (required with a URL)')
    .option('--at <ISO-8601>', 'judge staleness at this time (default now)')
    .action(async (source: string, opts: InspectOcspOptions) => (await import('../inspect-run.js')).inspectOcspCommand(ctx, source, opts));
}
