/**
 * The static dashboard in S3: each page of `revwatch site` put under
 * `site/<path>` in the evidence bucket, after each weekly digest. The pages
 * are self-contained HTML with relative links, so the prefix can be served
 * as it is (a CloudFront origin, or downloaded and opened from file://).
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SitePublisher } from '../../ports/index.js';
import { mapLimit } from '../../util/map-limit.js';

/** The one prefix the digest function may write in the evidence bucket. */
export const SITE_PREFIX = 'site/';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  svg: 'image/svg+xml',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  csv: 'text/csv; charset=utf-8',
  png: 'image/png',
};

export function contentTypeOf(path: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase() ?? '';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

export class S3SitePublisher implements SitePublisher {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async publish(files: readonly { readonly path: string; readonly bytes: Uint8Array }[]): Promise<void> {
    for (const f of files) {
      // Pages are named by the site builder (index.html, cases/<id>.html): nothing may climb out of the prefix.
      if (f.path.startsWith('/') || f.path.split('/').some((part) => part === '..' || part === ''))
        throw new Error(`refusing to publish a page outside ${SITE_PREFIX}: "${f.path}"`);
    }
    await mapLimit(files, 8, (f) =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: `${SITE_PREFIX}${f.path}`,
          Body: f.bytes,
          ContentType: contentTypeOf(f.path),
          // A week's dashboard: caches may keep a page a few minutes, not until the next digest.
          CacheControl: 'max-age=300',
        }),
      ),
    );
  }
}
