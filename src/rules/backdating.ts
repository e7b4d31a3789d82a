/**
 * How serious a backdated revocationDate is. revwatch always counts the
 * deadline from the evidence bound (a signed "good" after the claimed time);
 * this decides only the finding's severity.
 *
 * - Code signing: CSBR 4.9.1 says the CA SHALL set a historic revocationDate
 *   where appropriate (key compromise, Suspect Code): expected, so info.
 * - keyCompromise elsewhere: BR 7.2.2 says the CA SHOULD update the
 *   revocation date when the key was compromised earlier; a warning.
 * - Otherwise a violation (RFC 5280 5.3.2; BR 7.2.2 "Normally, the date and
 *   time revocation occurred").
 */
import type { Case, Observation, ReasonSlug } from '../domain.js';

const KEY_COMPROMISE = 1;
/** Case reasons for which CSBR 4.9.1 expects a historic revocation date. */
const CODE_SIGNING_HISTORIC_REASONS: ReadonlySet<ReasonSlug> = new Set<ReasonSlug>(['key-compromise', 'suspect-code']);

export interface BackdatingJudgement {
  readonly severity: 'violation' | 'warning' | 'info';
  /** Why it is not a violation; empty when it is. */
  readonly why: string;
}

export function backdatingSeverity(kase: Pick<Case, 'kind' | 'reason'>, revokedObservations: readonly Observation[]): BackdatingJudgement {
  const keyCompromise = revokedObservations.some((o) => o.reasonCode === KEY_COMPROMISE);
  const codeSigning = kase.kind === 'codesigning-subscriber' || kase.kind === 'codesigning-subca';
  if (codeSigning && (keyCompromise || CODE_SIGNING_HISTORIC_REASONS.has(kase.reason))) {
    return { severity: 'info', why: ' (CSBR 4.9.1: the CA sets a historic revocationDate for key compromise or Suspect Code)' };
  }
  if (keyCompromise) return { severity: 'warning', why: ' (keyCompromise may be backdated, BR 7.2.2)' };
  return { severity: 'violation', why: '' };
}
