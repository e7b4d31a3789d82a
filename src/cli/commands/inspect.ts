/** `revwatch inspect crl|ocsp`: what one CRL or OCSP response claims, and whether it is valid evidence (exit 3 when not). */
import { Option, type Command } from 'commander';
import { InputError, NotEvidenceError } from '../../errors.js';
import type { FetchRequest, FetchResult } from '../../ports/index.js';
import type { CertificateInfo } from '../../pki/certificate.js';
import { collect, readInput, SourceUnreadableError, type CliContext } from '../context.js';
import { notDerNorPem } from '../../util/read-capped.js';

const isUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

function requireFetched(result: FetchResult): Uint8Array {
  if (!result.ok) throw new SourceUnreadableError(`could not read ${result.url}: ${result.message}`);
  return result.body;
}

/** Reads the first certificate of an --issuer or --cert file, or null when the option is absent. */
async function optionalCert(path: string | undefined, what: string) {
  if (!path) return null;
  const { certificateFromFile } = await import('../../inspect/inspect.js');
  return certificateFromFile(await readInput(path, what), path);
}

/** One fetch with a fetcher made for it and closed after. */
async function fetchOnce(
  ctx: CliContext,
  fn: (fetch: (request: FetchRequest) => Promise<FetchResult>) => Promise<FetchResult>,
): Promise<Uint8Array> {
  const fetcher = await ctx.fetcher();
  try {
    return requireFetched(await fn((request) => fetcher.fetch(request)));
  } finally {
    await fetcher.close();
  }
}

export function registerInspect(program: Command, ctx: CliContext): void {
  const inspect = program.command('inspect').description('read a CRL or an OCSP response and say what it claims and whether it verifies');

  inspect
    .command('crl <source>')
    .description('inspect a CRL file or URL (DER or PEM)')
    .option('--issuer <file>', 'the CRL issuer certificate, to verify the signature')
    .addOption(new Option('--serial <hex>', 'look up this serial (repeatable)').argParser(collect))
    .option('--at <ISO-8601>', 'judge freshness at this time (default now)')
    .action(async (source: string, opts: { issuer?: string; serial?: string[]; at?: string }) => {
      const when = ctx.at(opts.at);
      const issuer = await optionalCert(opts.issuer, 'issuer');
      const { DEFAULT_CRL_MAX_BYTES } = await import('../../check/probe.js');
      const bytes = isUrl(source)
        ? await fetchOnce(ctx, (fetch) => fetch({ url: source, maxBytes: DEFAULT_CRL_MAX_BYTES, purpose: 'crl' }))
        : await readInput(source, 'CRL', DEFAULT_CRL_MAX_BYTES, notDerNorPem);
      const { crlEvidenceProblem, formatCrlInspection, inspectCrl } = await import('../../inspect/inspect.js');
      const report = await inspectCrl(bytes, source, { issuer, serials: opts.serial ?? [], at: when });
      ctx.print(report, () => formatCrlInspection(report));
      const notEvidence = crlEvidenceProblem(report);
      if (notEvidence) throw new NotEvidenceError(notEvidence);
    });

  inspect
    .command('ocsp <source>')
    .description(
      "inspect an OCSP response file, ask a responder URL about --cert, or ask a certificate file's own responder (AIA) about it",
    )
    .option('--issuer <file>', 'the issuer certificate, to verify the signature and CertID')
    .option('--cert <file>', 'the certificate asked about (required with a URL)')
    .option('--at <ISO-8601>', 'judge staleness at this time (default now)')
    .action(async (source: string, opts: { issuer?: string; cert?: string; at?: string }) => {
      const when = ctx.at(opts.at);
      const issuer = await optionalCert(opts.issuer, 'issuer');
      const cert = await optionalCert(opts.cert, 'certificate');
      let bytes: Uint8Array;
      if (isUrl(source)) {
        if (!cert || !issuer) throw new InputError('inspect ocsp <url> needs --cert and --issuer to build the request');
        const { OcspIssuer, buildOcspRequest } = await import('../../pki/ocsp.js');
        const { DEFAULT_OCSP_MAX_BYTES } = await import('../../check/probe.js');
        const { fetchOcsp } = await import('../../check/fetch-ocsp.js');
        const request = buildOcspRequest(cert.serial, new OcspIssuer(issuer.raw));
        bytes = await fetchOnce(ctx, (fetch) => fetchOcsp({ fetch }, source, request, DEFAULT_OCSP_MAX_BYTES));
      } else {
        bytes = await readInput(source, 'OCSP response');
        const { certificatesIn, responderFromCertificate } = await import('../../inspect/responder.js');
        const certs = certificatesIn(bytes, source);
        if (certs) {
          // A certificate, not a response: ask its own responder (AIA), with its issuer from --issuer, the file or caIssuers.
          const { OcspIssuer, buildOcspRequest } = await import('../../pki/ocsp.js');
          const { DEFAULT_OCSP_MAX_BYTES } = await import('../../check/probe.js');
          const { fetchOcsp } = await import('../../check/fetch-ocsp.js');
          const fetcher = await ctx.fetcher();
          let target;
          try {
            target = await responderFromCertificate(certs, source, issuer, fetcher);
            const request = buildOcspRequest(target.cert.serial, new OcspIssuer(target.issuer.raw));
            bytes = requireFetched(await fetchOcsp(fetcher, target.url, request, DEFAULT_OCSP_MAX_BYTES));
          } finally {
            await fetcher.close();
          }
          return printOcsp(ctx, bytes, target.url, { issuer: target.issuer, cert: target.cert, at: when });
        }
      }
      return printOcsp(ctx, bytes, source, { issuer, cert, at: when });
    });
}

async function printOcsp(
  ctx: CliContext,
  bytes: Uint8Array,
  source: string,
  options: { issuer: CertificateInfo | null; cert: CertificateInfo | null; at: number },
): Promise<void> {
  const { formatOcspInspection, inspectOcsp, ocspEvidenceProblem } = await import('../../inspect/inspect.js');
  const report = inspectOcsp(bytes, source, options);
  ctx.print(report, () => formatOcspInspection(report));
  const notEvidence = ocspEvidenceProblem(report);
  if (notEvidence) throw new NotEvidenceError(notEvidence);
}
