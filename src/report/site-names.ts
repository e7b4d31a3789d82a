/** File names of the site's pages (site.ts, crl-health-site.ts). */
import { createHash } from 'node:crypto';

/** A CA owner's page: a readable part of the name plus a hash of all of it, so names stay distinct and safe in a path. */
export function ownerPageName(owner: string): string {
  const plain = owner
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 50);
  return `${plain || 'owner'}-${createHash('sha256').update(owner).digest('hex').slice(0, 8)}.html`;
}
