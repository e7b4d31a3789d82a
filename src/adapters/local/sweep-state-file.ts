/**
 * The sweep's own state, <home>/sweep/state.json: the sweep runs, each CRL
 * URL's validators, last snapshot and faults, the issuer keys seen, and the
 * open CRL-health findings. Written whole (temporary name, fsync, rename) at
 * the end of a sweep: a sweep cut short leaves the previous state, and the
 * next one re-reads what it had read (the index folds a replay to the same
 * records).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreUnavailableError } from '../../errors.js';
import { emptySweepState, type SweepState, type SweepStateStore } from '../../ports/revocation-index.js';
import { writeFileDurably } from './durable-files.js';

export class SweepStateFile implements SweepStateStore {
  private readonly path: string;

  constructor(home: string) {
    this.path = join(home, 'sweep', 'state.json');
  }

  async load(): Promise<SweepState> {
    if (!existsSync(this.path)) return emptySweepState();
    try {
      return { ...emptySweepState(), ...(JSON.parse(readFileSync(this.path, 'utf8')) as Partial<SweepState>) };
    } catch (err) {
      throw new StoreUnavailableError(
        `${this.path} is damaged (${(err as Error).message}); move it aside to start the sweep state afresh`,
        {
          cause: err,
        },
      );
    }
  }

  async save(state: SweepState): Promise<void> {
    writeFileDurably(this.path, JSON.stringify(state));
  }
}
