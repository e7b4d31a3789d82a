/**
 * The DER field readers behind `track` against @peculiar/x509's full model as
 * the oracle: the same CertificateInfo for generated certificates, for every
 * certificate of the shared corpus (when present), and the same name text for
 * random distinguished names.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  describeCertificate,
  describeCertificateWithX509,
  readCertificateBlocks,
  type CertificateInfo,
} from '../../../src/pki/certificate.js';
import { NameTextUnsupported, nameText } from '../../../src/pki/certificate-fields.js';
import { Tag, encodeOid, seq, set, tlv } from '../../../src/pki/der.js';
import { Name } from '../../../src/pki/x509.js';
import { LocalCa } from '../../../src/local-ca/ca.js';
import { DAY, T0, makeHierarchy } from '../../helpers/pki-fixtures.js';

const CORPUS = join(__dirname, '../../../../shared/fixtures/revocation-corpus');
const corpusPresent = existsSync(CORPUS);
if (!corpusPresent) console.warn(`certificate-fields: corpus comparison skipped, the shared corpus is absent (${CORPUS})`);

/** Everything but `raw`, which both paths take from parseRawCertificate. */
const comparable = (c: CertificateInfo) => ({ ...c, raw: undefined, der: Buffer.from(c.der).toString('hex') });

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : /\.(crt|cer|der|pem)$/i.test(f) ? [p] : [];
  });
}

describe('describeCertificate (DER readers) equals the @peculiar/x509 model', () => {
  it('for generated CA, leaf, responder and precertificate-style certificates of both key types', async () => {
    for (const keyType of ['ec-p256', 'rsa-2048'] as const) {
      const h = await makeHierarchy(keyType);
      const responder = await h.ca.issueOcspResponder(T0 - DAY, T0 + 30 * DAY);
      const multi = await h.ca.issue({
        subject: 'CN=multi.example, O=Example\\, Inc., OU=Unit + One, C=DE',
        notBefore: T0,
        notAfter: T0 + 30 * DAY,
        ocspUrls: ['http://ocsp-a.example', 'http://ocsp-b.example/path?x=1'],
        crlUrls: ['http://crl-a.example/a.crl', 'http://crl-b.example/b.crl'],
      });
      for (const der of [h.root.info.der, h.ca.info.der, h.leaf.info.der, responder.info.der, multi.info.der]) {
        expect(comparable(describeCertificate(der))).toEqual(comparable(describeCertificateWithX509(der)));
      }
    }
  });

  it.skipIf(!corpusPresent)('for every certificate in the shared corpus that the full model reads', () => {
    let compared = 0;
    for (const path of corpusPresent ? walk(CORPUS) : []) {
      let blocks: Uint8Array[];
      try {
        blocks = readCertificateBlocks(readFileSync(path), path);
      } catch {
        continue; // a PEM file of keys or CRLs
      }
      for (const der of blocks) {
        let oracle: CertificateInfo;
        try {
          oracle = describeCertificateWithX509(der, path);
        } catch {
          continue; // not a certificate (CRLs, OCSP responses share the extensions)
        }
        expect(comparable(describeCertificate(der, path)), path).toEqual(comparable(oracle));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(300);
  });

  it('falls back to the full model for what the readers do not render (BMPString names)', async () => {
    const ca = await LocalCa.create({ name: 'Fallback CA', keyType: 'ec-p256', notBefore: T0 - DAY, notAfter: T0 + DAY });
    const bmp = seq(set(seq(encodeOid('2.5.4.3'), tlv(0x1e, Buffer.from('\u00fcber CA', 'utf16le').swap16()))));
    expect(() => nameText(bmp)).toThrow(NameTextUnsupported);
    expect(nameText(ca.info.raw.subjectName)).toBe(new Name(ca.info.raw.subjectName).toString());
  });
});

describe('nameText equals @peculiar/x509 Name.toString()', () => {
  const TYPES = [
    '2.5.4.3',
    '2.5.4.10',
    '2.5.4.11',
    '2.5.4.6',
    '2.5.4.7',
    '2.5.4.8',
    '0.9.2342.19200300.100.1.25',
    '1.2.840.113549.1.9.1',
    '2.5.4.5',
    '2.5.4.97',
    '1.3.6.1.4.1.311.60.2.1.3',
    '2.5.4.15',
  ];
  const attribute = fc.record({
    type: fc.constantFrom(...TYPES),
    tag: fc.constantFrom(Tag.UTF8_STRING, Tag.PRINTABLE_STRING, Tag.IA5_STRING),
    value: fc.oneof(
      fc.string({ unit: fc.constantFrom(...'abcXYZ019 ,+"\\<>;#=-./:\'()'.split('')), minLength: 1, maxLength: 12 }),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
    ),
  });

  it('for random single-valued names, or it declines and the full model is used', () => {
    fc.assert(
      fc.property(fc.array(attribute, { minLength: 1, maxLength: 6 }), (attrs) => {
        const der = seq(
          ...attrs.map((a) => set(seq(encodeOid(a.type), tlv(a.tag, Buffer.from(a.value, a.tag === Tag.UTF8_STRING ? 'utf8' : 'latin1'))))),
        );
        let mine: string;
        try {
          mine = nameText(der);
        } catch (err) {
          expect(err).toBeInstanceOf(NameTextUnsupported);
          return;
        }
        expect(mine).toBe(new Name(der).toString());
      }),
      { numRuns: 500 },
    );
  });
});
