/** Local mode: the embedded store under --home, the outbox, and the CRL copies in <home>/crls. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureHomeDirectory } from '../cli-validate.js';
import { OutboxMailer } from '../notify/outbox-mailer.js';
import { openEmbeddedStore } from '../store/embedded.js';
import type { EvidenceFiles, Runtime, RuntimeOptions } from './runtime.js';

export function localEvidenceFiles(home: string): EvidenceFiles {
  const dir = join(home, 'crls');
  const path = (sha: string): string => join(dir, `${sha}.crl`);
  return {
    async saveCrl(sha, bytes) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path(sha), bytes);
    },
    crlPath: (sha) => (existsSync(path(sha)) ? path(sha) : null),
    readCrl: (sha) => (existsSync(path(sha)) ? readFileSync(path(sha)) : null),
  };
}

export async function openLocalRuntime(options: RuntimeOptions): Promise<Runtime> {
  ensureHomeDirectory(options.home);
  const open = await openEmbeddedStore(options.home, { onLockWait: options.onLockWait });
  return {
    mode: 'local',
    store: open.store,
    mailer: new OutboxMailer(join(options.home, 'outbox'), options.onMail ?? (() => {})),
    evidenceFiles: localEvidenceFiles(options.home),
    close: () => open.close(),
  };
}
