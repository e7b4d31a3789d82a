/** What `revwatch inspect crl|ocsp` runs (src/cli/commands/inspect.ts declares the options): read, judge, exit 3 when not evidence. */
import { DEFAULT_CRL_MAX_BYTES, DEFAULT_OCSP_MAX_BYTES } from '../check/probe.js';
import { fetchOcsp } from '../check/fetch-ocsp.js';
import { InputError, NotEvidenceError } from '../errors.js';
import {
  certificateFromFile,
  crlEvidenceProblem,
  formatCrlInspection,
  formatOcspInspection,
  inspectCrl,
  inspectOcsp,
  ocspEvidenceProblem,
} from '../inspect/inspect.js';
import { certificatesIn, responderFromCertificate } from '../inspect/responder.js';
import type { CertificateInfo } from '../pki/certificate.js';
import { OcspIssuer, buildOcspRequest } from '../pki/ocsp.js';
import type { FetchRequest, FetchResult } from '../ports/index.js';
import { notDerNorPem } from '../util/read-capped.js';
import type { InspectCrlOptions, InspectOcspOptions } from './commands/inspect.js';
import { readInput, SourceUnreadableError, type CliContext } from './context.js';

const isUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

function requireFetched(result: FetchResult): Uint8Array {
  if (!result.ok) throw new SourceUnreadableError(`could not read ${result.url}: ${result.message}`);
  return result.body;
}

/** Reads the first certificate of an --issuer or --cert file, or null when the option is absent. */
async function optionalCert(path: string | undefined, what: string) {
  if (!path) return null;
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

export async function inspectCrlCommand(ctx: CliContext, source: string, opts: InspectCrlOptions): Promise<void> {
  const when = ctx.at(opts.at);
  const issuer = await optionalCert(opts.issuer, 'issuer');
  const bytes = isUrl(source)
    ? await fetchOnce(ctx, (fetch) => fetch({ url: source, maxBytes: DEFAULT_CRL_MAX_BYTES, purpose: 'crl' }))
    : await readInput(source, 'CRL', DEFAULT_CRL_MAX_BYTES, notDerNorPem);
  const report = await inspectCrl(bytes, source, { issuer, serials: opts.serial ?? [], at: when });
  ctx.print(report, () => formatCrlInspection(report));
  const notEvidence = crlEvidenceProblem(report);
  if (notEvidence) throw new NotEvidenceError(notEvidence);
}

export async function inspectOcspCommand(ctx: CliContext, source: string, opts: InspectOcspOptions): Promise<void> {
  const when = ctx.at(opts.at);
  const issuer = await optionalCert(opts.issuer, 'issuer');
  const cert = await optionalCert(opts.cert, 'certificate');
  let bytes: Uint8Array;
  if (isUrl(source)) {
    if (!cert || !issuer) throw new InputError('inspect ocsp <url> needs --cert and --issuer to build the request');
    const request = buildOcspRequest(cert.serial, new OcspIssuer(issuer.raw));
    bytes = await fetchOnce(ctx, (fetch) => fetchOcsp({ fetch }, source, request, DEFAULT_OCSP_MAX_BYTES));
  } else {
    bytes = await readInput(source, 'OCSP response');
    const certs = certificatesIn(bytes, source);
    if (certs) {
      // A certificate, not a response: ask its own responder (AIA), with its issuer from --issuer, the file or caIssuers.
      const fetcher = await ctx.fetcher();
      let target: Awaited<ReturnType<typeof responderFromCertificate>>;
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
}

function printOcsp(
  ctx: CliContext,
  bytes: Uint8Array,
  source: string,
  options: { issuer: CertificateInfo | null; cert: CertificateInfo | null; at: number },
): void {
  const report = inspectOcsp(bytes, source, options);
  ctx.print(report, () => formatOcspInspection(report));
  const notEvidence = ocspEvidenceProblem(report);
  if (notEvidence) throw new NotEvidenceError(notEvidence);
}
