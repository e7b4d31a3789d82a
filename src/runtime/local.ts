/** Local mode: the embedded store under --home, the outbox, and the CRL copies in <home>/crls. */
import { join } from 'node:path';
import { ensureHomeDirectory } from '../adapters/local/home-directory.js';
import { OutboxMailer } from '../adapters/local/outbox-mailer.js';
import { openEmbeddedStore } from '../adapters/local/embedded-store.js';
import { localEvidenceFiles } from '../adapters/local/evidence-files.js';
import { LocalGoodAnswerFiles } from '../adapters/local/good-answer-files.js';
import { DisclosureStore } from '../ccadb/store.js';
import { lazyFetchStack } from './lazy-fetch-stack.js';
import type { Runtime, RuntimeOptions } from './runtime.js';

export async function openLocalRuntime(options: RuntimeOptions): Promise<Runtime> {
  ensureHomeDirectory(options.home);
  const open = await openEmbeddedStore(options.home, { onLockWait: options.onLockWait });
  const fetch = lazyFetchStack(options);
  return {
    mode: 'local',
    store: open.store,
    mailer: new OutboxMailer(join(options.home, 'outbox'), options.onMail ?? (() => {})),
    evidenceFiles: localEvidenceFiles(options.home),
    disclosures: new DisclosureStore(open.store.table),
    table: open.store.table,
    evidenceArchive: null,
    goodAnswers: new LocalGoodAnswerFiles(join(options.home, 'good-answers')),
    fetchStack: fetch.get,
    async close() {
      try {
        await fetch.close();
      } finally {
        await open.close();
      }
    },
  };
}
