/** Object identifiers revwatch reads, with the document that defines each. */
export const Oid = {
  // RFC 5280 section 4.2 / 5.2 / 5.3 extensions
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  crlNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  holdInstructionCode: '2.5.29.23',
  invalidityDate: '2.5.29.24',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  certificateIssuer: '2.5.29.29',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  freshestCrl: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  // RFC 5280 4.2.2.1 access methods
  accessOcsp: '1.3.6.1.5.5.7.48.1',
  accessCaIssuers: '1.3.6.1.5.5.7.48.2',
  // RFC 6960
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  kpOcspSigning: '1.3.6.1.5.5.7.3.9',
  // RFC 6962 section 3.1: precertificate poison and Precertificate Signing Certificate EKU
  ctPrecertPoison: '1.3.6.1.4.1.11129.2.4.3',
  ctPrecertSigning: '1.3.6.1.4.1.11129.2.4.4',
  ctSctList: '1.3.6.1.4.1.11129.2.4.2',
  // Hashes (RFC 3279, RFC 5754)
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  mgf1: '1.2.840.113549.1.1.8',
  // PKCS #7 (RFC 2315) certs-only bundles served at caIssuers URLs
  pkcs7SignedData: '1.2.840.113549.1.7.2',
} as const;

/** CRLReason values (RFC 5280 section 5.3.1); 7 is not assigned. */
export const CRL_REASONS: Readonly<Record<number, string>> = {
  0: 'unspecified',
  1: 'keyCompromise',
  2: 'cACompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
  6: 'certificateHold',
  8: 'removeFromCRL',
  9: 'privilegeWithdrawn',
  10: 'aACompromise',
};

export type CrlReasonName = (typeof CRL_REASONS)[number];

export function reasonName(code: number | null): string | null {
  if (code === null) return null;
  return CRL_REASONS[code] ?? `invalid(${code})`;
}
