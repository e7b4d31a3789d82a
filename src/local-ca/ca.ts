/**
 * An in-process certificate authority: issues certificates with
 * @peculiar/x509 and signs CRLs and OCSP responses over the same keys. It
 * backs `revwatch demo`, the tests and the benchmarks, so none of them needs
 * openssl or a network.
 */
import {
  AuthorityInfoAccessExtension,
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  CRLDistributionPointsExtension,
  CertificatePolicyExtension,
  ExtendedKeyUsageExtension,
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  X509CertificateGenerator,
} from '../pki/x509.js';
import { describeCertificate, type CertificateInfo } from '../pki/certificate.js';
import { Oid } from '../pki/oids.js';
import { generateKeyMaterial, type KeyMaterial, type KeyType } from './keys.js';
import { writeCrl, type CrlEntryInput } from './crl-writer.js';
import { writeOcspResponse, type OcspAnswer, type OcspSigner } from './ocsp-writer.js';

export interface IssueOptions {
  readonly subject: string;
  readonly serial?: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly ocspUrls?: readonly string[];
  readonly crlUrls?: readonly string[];
  readonly caIssuersUrls?: readonly string[];
  readonly isCA?: boolean;
  /** Adds the RFC 6962 poison extension. */
  readonly precertificate?: boolean;
  readonly extendedKeyUsages?: readonly string[];
  readonly keyType?: KeyType;
  /** subjectAltName dNSName entries (RFC 5280 4.2.1.6). */
  readonly dnsNames?: readonly string[];
  /** certificatePolicies policyIdentifiers (RFC 5280 4.2.1.4), e.g. an S/MIME generation (S/MIME BR 7.1.6.1). */
  readonly policies?: readonly string[];
}

export interface IssuedCertificate {
  readonly info: CertificateInfo;
  readonly keys: KeyMaterial;
}

let serialCounter = 0x1000n;
/** Serials in the style of public CAs: 16 random-looking bytes, positive. */
function nextSerial(): string {
  serialCounter += 1n;
  const mixed = (serialCounter * 0x9e3779b97f4a7c15n) & ((1n << 120n) - 1n);
  return (mixed | (1n << 120n)).toString(16);
}

export class LocalCa {
  private constructor(
    readonly info: CertificateInfo,
    readonly keys: KeyMaterial,
  ) {}

  /** A self-signed root (or, with `parent`, an intermediate issued by it). */
  static async create(options: {
    name: string;
    keyType?: KeyType;
    notBefore: number;
    notAfter: number;
    parent?: LocalCa;
    crlUrls?: string[];
    ocspUrls?: string[];
    extendedKeyUsages?: string[];
  }): Promise<LocalCa> {
    const keys = await generateKeyMaterial(options.keyType ?? 'ec-p256');
    const subject = options.name.includes('=') ? options.name : `CN=${options.name}, O=revwatch local CA`;
    const issuerKeys = options.parent?.keys ?? keys;
    const extensions: Extension[] = [
      new BasicConstraintsExtension(true, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign | KeyUsageFlags.digitalSignature, true),
      await SubjectKeyIdentifierExtension.create(keys.keys.publicKey),
      await AuthorityKeyIdentifierExtension.create(issuerKeys.keys.publicKey),
    ];
    if (options.crlUrls?.length) extensions.push(new CRLDistributionPointsExtension([...options.crlUrls]));
    if (options.ocspUrls?.length) extensions.push(new AuthorityInfoAccessExtension({ ocsp: [...options.ocspUrls] }));
    if (options.extendedKeyUsages?.length) extensions.push(new ExtendedKeyUsageExtension([...options.extendedKeyUsages]));
    const cert = await X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject,
      issuer: options.parent ? options.parent.info.subject : subject,
      notBefore: new Date(options.notBefore),
      notAfter: new Date(options.notAfter),
      signingAlgorithm: issuerKeys.signingAlgorithm,
      publicKey: keys.keys.publicKey,
      signingKey: issuerKeys.keys.privateKey,
      extensions,
    });
    return new LocalCa(describeCertificate(new Uint8Array(cert.rawData)), keys);
  }

  async issue(options: IssueOptions): Promise<IssuedCertificate> {
    const keys = await generateKeyMaterial(options.keyType ?? 'ec-p256');
    const extensions: Extension[] = [
      new BasicConstraintsExtension(options.isCA === true, undefined, true),
      new KeyUsagesExtension(options.isCA ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature, true),
      await AuthorityKeyIdentifierExtension.create(this.keys.keys.publicKey),
    ];
    if (options.extendedKeyUsages?.length) extensions.push(new ExtendedKeyUsageExtension([...options.extendedKeyUsages]));
    if (options.ocspUrls?.length || options.caIssuersUrls?.length) {
      extensions.push(
        new AuthorityInfoAccessExtension({ ocsp: [...(options.ocspUrls ?? [])], caIssuers: [...(options.caIssuersUrls ?? [])] }),
      );
    }
    if (options.crlUrls?.length) extensions.push(new CRLDistributionPointsExtension([...options.crlUrls]));
    if (options.policies?.length) extensions.push(new CertificatePolicyExtension([...options.policies]));
    if (options.dnsNames?.length)
      extensions.push(new SubjectAlternativeNameExtension(options.dnsNames.map((value) => ({ type: 'dns' as const, value }))));
    // RFC 6962 3.1: the poison extension is critical and its value is ASN.1 NULL.
    if (options.precertificate) extensions.push(new Extension(Oid.ctPrecertPoison, true, Uint8Array.of(0x05, 0x00)));
    const cert = await X509CertificateGenerator.create({
      serialNumber: options.serial ?? nextSerial(),
      subject: options.subject.includes('=') ? options.subject : `CN=${options.subject}`,
      issuer: this.info.subject,
      notBefore: new Date(options.notBefore),
      notAfter: new Date(options.notAfter),
      signingAlgorithm: this.keys.signingAlgorithm,
      publicKey: keys.keys.publicKey,
      signingKey: this.keys.keys.privateKey,
      extensions,
    });
    return { info: describeCertificate(new Uint8Array(cert.rawData)), keys };
  }

  /** A delegated OCSP responder certificate (RFC 6960 4.2.2.2): id-kp-OCSPSigning, issued by this CA. */
  async issueOcspResponder(
    notBefore: number,
    notAfter: number,
    extendedKeyUsages: readonly string[] = [Oid.kpOcspSigning],
  ): Promise<IssuedCertificate> {
    return this.issue({
      subject: `CN=${this.info.subject.replace(/^CN=([^,]+).*/, '$1')} OCSP responder`,
      notBefore,
      notAfter,
      extendedKeyUsages,
    });
  }

  get signer(): OcspSigner {
    return { keyType: this.keys.type, privateKey: this.keys.privateKey, subjectName: this.info.raw.subjectName, spki: this.info.raw.spki };
  }

  static delegatedSigner(responder: IssuedCertificate): OcspSigner {
    return {
      keyType: responder.keys.type,
      privateKey: responder.keys.privateKey,
      subjectName: responder.info.raw.subjectName,
      spki: responder.info.raw.spki,
      certificateDer: responder.info.der,
    };
  }

  crl(options: {
    entries: Iterable<CrlEntryInput>;
    entryCount?: number;
    thisUpdate: number;
    nextUpdate?: number | null;
    crlNumber: bigint | number;
    idpUri?: string;
    extraExtensions?: Buffer[];
    corruptSignature?: boolean;
  }): Buffer {
    return writeCrl({ issuerName: this.info.raw.subjectName, keyType: this.keys.type, privateKey: this.keys.privateKey, ...options });
  }

  ocspResponse(options: {
    answers: readonly OcspAnswer[];
    producedAt: number;
    signer?: OcspSigner;
    responderIdBy?: 'name' | 'key';
    hash?: 'sha1' | 'sha256';
    corruptSignature?: boolean;
  }): Buffer {
    return writeOcspResponse({
      issuerSubjectName: this.info.raw.subjectName,
      issuerSpki: this.info.raw.spki,
      signer: options.signer ?? this.signer,
      producedAt: options.producedAt,
      answers: options.answers,
      responderIdBy: options.responderIdBy,
      hash: options.hash,
      corruptSignature: options.corruptSignature,
    });
  }
}
