/**
 * The evidence archive in S3 (AWS mode): CRLs as objects under
 * `crls/<sha256>.crl` in the stack's evidence bucket. Writes are conditional
 * (If-None-Match: *), so an archived CRL is never replaced, and carry their
 * SHA-256 checksum, which S3 verifies before it stores anything. Reads check
 * the bytes against the key.
 *
 * The adapter takes its client as a constructor argument (docs/architecture.md, "Rules the layering keeps"), so the
 * handler test drives it at the SDK boundary.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ArchiveIntegrityError, crlKey, sha256Hex, type EvidenceArchive } from '../../ports/evidence-archive.js';

const errorName = (err: unknown): string => (err as { name?: string } | null)?.name ?? '';
const httpStatus = (err: unknown): number | undefined =>
  (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;

export class S3EvidenceArchive implements EvidenceArchive {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async putCrl(sha256: string, der: Uint8Array): Promise<void> {
    const key = crlKey(sha256);
    if (sha256Hex(der) !== sha256)
      throw new ArchiveIntegrityError(`refusing to archive a CRL under ${key}: its bytes hash to ${sha256Hex(der)}`);
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: der,
          ContentType: 'application/pkix-crl',
          ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          // Content-addressed: an object under this key already holds these bytes. Never replaced.
          IfNoneMatch: '*',
        }),
      );
    } catch (err) {
      // 412: archived before (another worker, or a retried job). 409: a concurrent write of the same key.
      const status = httpStatus(err);
      if (status === 412 || status === 409 || errorName(err) === 'PreconditionFailed') return;
      throw err;
    }
  }

  async getCrl(sha256: string): Promise<Uint8Array | null> {
    const key = crlKey(sha256);
    let body: Uint8Array;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!r.Body) return null;
      body = await r.Body.transformToByteArray();
    } catch (err) {
      if (errorName(err) === 'NoSuchKey' || httpStatus(err) === 404) return null;
      throw err;
    }
    if (sha256Hex(body) !== sha256)
      throw new ArchiveIntegrityError(`s3://${this.bucket}/${key} does not hash to its key (got ${sha256Hex(body)})`);
    return body;
  }
}
