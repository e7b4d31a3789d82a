/**
 * The revocation index's local files as `revwatch lookup` reads them: the store (revocation-index-files.ts),
 * and every URL's snapshot log read in one synchronous pass (revocation-index-lookup.ts), not URL by URL.
 */
import { join } from 'node:path';
import type { SnapshotRef } from '../../ports/revocation-index.js';
import { RevocationIndexFiles, snapshotsFileName } from './revocation-index-files.js';
import { readSnapshotsOfMany } from './revocation-index-lookup.js';

export class RevocationIndexReader extends RevocationIndexFiles {
  private readonly urlsDir: string;

  constructor(home: string) {
    super(home);
    this.urlsDir = join(home, 'sweep', 'urls');
  }

  /** Each URL's snapshots, as `snapshots` gives them (this reader queues no writes to wait for). */
  async snapshotsOfMany(urls: readonly string[]): Promise<Map<string, SnapshotRef[]>> {
    return readSnapshotsOfMany(this.urlsDir, urls, snapshotsFileName);
  }
}
