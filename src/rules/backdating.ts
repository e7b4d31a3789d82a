/**
 * How serious a backdated revocationDate is. revwatch always counts the
 * deadline from the evidence bound (a signed "good" after the claimed time);
 * this decides only the finding's severity.
 *
 * - Code signing, for any reason: CSBR 4.9.6 "the CA MAY specify the time at
 *   which the Certificate is first considered to be invalid in the
 *   revocationDate field", 7.3 "the CA MAY use that revocation date in
 *   subsequent OCSP responses" (and 4.9.1: for key compromise or Suspect Code
 *   it SHALL set a historic date where appropriate): expected, so info.
 * - keyCompromise on a TLS certificate: BR 7.2.2 says the CA SHOULD update the
 *   revocation date when the key was compromised earlier; a warning. The
 *   S/MIME BR has no such allowance.
 * - Otherwise a violation (RFC 5280 5.3.2; BR 7.2.2 "Normally, the date and
 *   time revocation occurred").
 */
import type { Case, CertKind, Observation } from '../domain.js';

const KEY_COMPROMISE = 1;
const CODE_SIGNING: ReadonlySet<CertKind> = new Set<CertKind>(['codesigning-subscriber', 'codesigning-subca']);
const TLS: ReadonlySet<CertKind> = new Set<CertKind>(['tls-subscriber', 'tls-subca']);

export interface BackdatingJudgement {
  readonly severity: 'violation' | 'warning' | 'info';
  /** Why it is not a violation, or what the texts say when it is; empty when nothing is to be added. */
  readonly why: string;
}

export function backdatingSeverity(kase: Pick<Case, 'kind' | 'reason'>, revokedObservations: readonly Observation[]): BackdatingJudgement {
  const keyCompromise = revokedObservations.some((o) => o.reasonCode === KEY_COMPROMISE);
  if (CODE_SIGNING.has(kase.kind)) {
    return {
      severity: 'info',
      why: ' (CSBR 4.9.6: the CA MAY give the time the certificate is first considered invalid as its revocationDate, whatever the reason)',
    };
  }
  if (keyCompromise && TLS.has(kase.kind)) return { severity: 'warning', why: ' (keyCompromise may be backdated, BR 7.2.2)' };
  if (keyCompromise)
    return { severity: 'violation', why: ' (the S/MIME BR has no allowance for backdating, even for keyCompromise; RFC 5280 5.3.2)' };
  return { severity: 'violation', why: '' };
}
