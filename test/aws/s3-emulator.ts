/**
 * A minimal S3 (path-style REST, as the SDK uses for an IP endpoint) for the
 * harness: PutObject, GetObject, HeadObject and ListObjectsV2 (with a delimiter) on the buckets
 * of the template. It keeps the two semantics the evidence archive rests on,
 * which s3rver (the other emulator on npm, last released in 2020) ignores:
 * a conditional write (`If-None-Match: *`, S3's conditional writes of 2024)
 * answers 412 when the key exists, and a `x-amz-checksum-sha256` that does
 * not match the body is refused (400 BadDigest) before anything is stored.
 */
import { createHash } from 'node:crypto';
import { xmlReply, type Backend, type Describe, type RawRequest, type Reply } from './gateway.js';

export interface StoredObject {
  readonly body: Buffer;
  readonly contentType: string;
  readonly cacheControl: string | null;
  readonly etag: string;
  readonly lastModified: number;
}

const errorXml = (status: number, code: string, message: string, resource: string): Reply =>
  xmlReply(status, `<Error><Code>${code}</Code><Message>${message}</Message><Resource>${resource}</Resource></Error>`);

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Decodes an `aws-chunked` body (the SDK's streaming upload with a trailing checksum): hex-size[;ext]\r\n data \r\n … 0\r\n trailers. */
function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol < 0) throw new Error('truncated aws-chunked body');
    const size = Number.parseInt(body.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size)) throw new Error('bad aws-chunked size');
    if (size === 0) return Buffer.concat(parts);
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

function split(req: RawRequest): { bucket: string; key: string; query: URLSearchParams } {
  const url = new URL(req.path, 'http://s3.local');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  return { bucket: decodeURIComponent(bucket), key: rest.map(decodeURIComponent).join('/'), query: url.searchParams };
}

export class S3Emulator {
  private readonly buckets = new Map<string, Map<string, StoredObject>>();

  constructor(private readonly now: () => number) {}

  createBucket(name: string): void {
    this.buckets.set(name, new Map());
  }

  objects(bucket: string): ReadonlyMap<string, StoredObject> {
    const b = this.buckets.get(bucket);
    if (!b) throw new Error(`no bucket ${bucket}`);
    return b;
  }

  readonly backend: Backend = async (req) => {
    const { bucket, key, query } = split(req);
    const objects = this.buckets.get(bucket);
    if (!objects) return errorXml(404, 'NoSuchBucket', 'The specified bucket does not exist', `/${bucket}`);
    if (!key) {
      if (req.method === 'GET' && query.get('list-type') === '2') {
        const prefix = query.get('prefix') ?? '';
        const delimiter = query.get('delimiter') ?? '';
        // With a delimiter, keys with it past the prefix roll up into CommonPrefixes (up to and including it).
        const rolled = new Set<string>();
        const keys = [...objects.keys()]
          .filter((k) => k.startsWith(prefix))
          .filter((k) => {
            const at = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
            if (at < 0) return true;
            rolled.add(k.slice(0, at + delimiter.length));
            return false;
          })
          .sort();
        const commonPrefixes = [...rolled]
          .sort()
          .map((p) => `<CommonPrefixes><Prefix>${escapeXml(p)}</Prefix></CommonPrefixes>`)
          .join('');
        const contents = keys
          .map((k) => {
            const o = objects.get(k)!;
            return `<Contents><Key>${escapeXml(k)}</Key><LastModified>${new Date(o.lastModified).toISOString()}</LastModified><ETag>"${o.etag}"</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
          })
          .join('');
        return xmlReply(
          200,
          `<ListBucketResult><Name>${bucket}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${keys.length + rolled.size}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${contents}${commonPrefixes}</ListBucketResult>`,
        );
      }
      return errorXml(501, 'NotImplemented', `${req.method} on a bucket is not emulated`, `/${bucket}`);
    }
    const resource = `/${bucket}/${key}`;
    switch (req.method) {
      case 'PUT': {
        if (req.headers['x-amz-copy-source']) return errorXml(501, 'NotImplemented', 'CopyObject is not emulated', resource);
        const chunked = (req.headers['content-encoding'] ?? '').includes('aws-chunked');
        const body = chunked ? decodeAwsChunked(req.body) : req.body;
        const sha = req.headers['x-amz-checksum-sha256'];
        if (sha && createHash('sha256').update(body).digest('base64') !== sha)
          return errorXml(400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.', resource);
        if (req.headers['if-none-match'] === '*' && objects.has(key))
          return errorXml(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', resource);
        const etag = createHash('md5').update(body).digest('hex');
        objects.set(key, {
          body,
          contentType: req.headers['content-type'] ?? 'binary/octet-stream',
          cacheControl: req.headers['cache-control'] ?? null,
          etag,
          lastModified: this.now(),
        });
        return { status: 200, headers: { etag: `"${etag}"` }, body: Buffer.alloc(0) };
      }
      case 'GET':
      case 'HEAD': {
        const o = objects.get(key);
        if (!o) {
          return req.method === 'HEAD'
            ? { status: 404, headers: {}, body: Buffer.alloc(0) }
            : errorXml(404, 'NoSuchKey', 'The specified key does not exist.', resource);
        }
        return {
          status: 200,
          headers: {
            'content-type': o.contentType,
            etag: `"${o.etag}"`,
            'last-modified': new Date(o.lastModified).toUTCString(),
            ...(o.cacheControl ? { 'cache-control': o.cacheControl } : {}),
            ...(req.method === 'HEAD' ? { 'x-harness-length': String(o.body.length) } : {}),
          },
          body: req.method === 'HEAD' ? Buffer.alloc(0) : o.body,
        };
      }
      default:
        return errorXml(501, 'NotImplemented', `${req.method} is not emulated`, resource);
    }
  };

  /** What IAM would authorize: the object actions on `arn:aws:s3:::bucket/key`, ListBucket on the bucket (with s3:prefix). */
  readonly describe: Describe = (req) => {
    const { bucket, key, query } = split(req);
    if (!key) {
      const prefix = query.get('prefix') ?? '';
      return {
        action: 's3:ListBucket',
        resources: [`arn:aws:s3:::${bucket}`],
        context: { 's3:prefix': prefix } as Record<string, string>,
        input: { bucket, prefix },
      };
    }
    const action = req.method === 'PUT' ? 's3:PutObject' : req.method === 'DELETE' ? 's3:DeleteObject' : 's3:GetObject';
    return { action, resources: [`arn:aws:s3:::${bucket}/${key}`], context: {}, input: { bucket, key } };
  };
}
