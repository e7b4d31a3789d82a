/**
 * The weekly digest for the policy forum (EventBridge schedule): build it
 * from the table, mail it to the configured recipients, record it.
 */
import type { ScheduledEvent } from 'aws-lambda';
import { formatDigest, produceDigest } from '../src/report/digest.js';
import { depsFromEnvironment, type FunctionDeps } from './shared/deps.js';

export function createDigestHandler(getDeps: () => FunctionDeps) {
  return async (_event: ScheduledEvent): Promise<{ cas: number; since: string }> => {
    const { store, mailer, clock, config } = getDeps();
    const now = clock.now().getTime();
    const digest = await produceDigest(store, now, undefined, async (d) => {
      if (config.digestRecipients.length === 0) return;
      await mailer.send({
        from: config.sender,
        to: config.digestRecipients,
        subject: `revwatch digest ${d.generatedAt.slice(0, 10)}: ${d.cas.length} CA(s)`,
        text: formatDigest(d, 'text'),
        date: new Date(now),
        attachments: [{ filename: 'digest.md', contentType: 'text/markdown', content: formatDigest(d, 'markdown') }],
      });
    });
    return { cas: digest.cas.length, since: digest.since };
  };
}

let deps: FunctionDeps | undefined;
export const handler = createDigestHandler(() => (deps ??= depsFromEnvironment(process.env)));
