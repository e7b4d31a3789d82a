/**
 * The scheduled digest (functions/digest.ts): built from the table, mailed to
 * the digest's recipients and recorded as delivered, then the static site
 * (`revwatch site`) published. The digest is delivered and recorded before
 * the site is built: a failed publication is reported, never a reason to fail
 * the run (a retried run would mail the digest twice).
 */
import type { Clock, Mailer, SitePublisher } from '../ports/index.js';
import type { CaseStore, ObservationStore, RunStore } from '../ports/store.js';
import type { SweepStateStore } from '../ports/revocation-index.js';
import type { JudgingInputs } from '../status/status.js';
import { formatDigest, produceDigest } from './digest.js';
import { buildSite } from './site.js';

export interface DigestDelivery {
  readonly store: CaseStore & ObservationStore & RunStore;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly mail: { readonly sender: string; readonly digestRecipients: readonly string[] };
  readonly disclosures: JudgingInputs['disclosures'];
  /** Where the site goes after the digest; absent when no bucket is configured. */
  readonly site?: SitePublisher | null;
  /** The sweep's state, for the digest's CRL-health section and the site's CRL-health pages; absent: no sweep has run. */
  readonly sweepState?: SweepStateStore | null;
}

export interface DigestDelivered {
  readonly cas: number;
  readonly since: string;
  /** False when no recipient is configured: the digest is built and recorded, not mailed. */
  readonly mailed: boolean;
  readonly sitePages?: number;
  /** Why the site was not published, when it was not. */
  readonly siteError?: string;
}

export async function deliverDigest(deps: DigestDelivery): Promise<DigestDelivered> {
  const { store, mailer, clock, mail, disclosures, site, sweepState } = deps;
  const now = clock.now().getTime();
  const mailed = mail.digestRecipients.length > 0;
  const digest = await produceDigest(
    store,
    now,
    undefined,
    async (d) => {
      if (!mailed) return;
      await mailer.send({
        from: mail.sender,
        to: [...mail.digestRecipients],
        subject: `revwatch digest ${d.generatedAt.slice(0, 10)}: ${d.cas.length} CA(s)`,
        text: formatDigest(d, 'text'),
        date: new Date(now),
        attachments: [{ filename: 'digest.md', contentType: 'text/markdown', content: formatDigest(d, 'markdown') }],
      });
    },
    // The scheduled digest is the delivered one: the next counts findings as new from here.
    { recordDelivery: true, disclosures, sweepState: sweepState ?? null },
  );
  const done = { cas: digest.cas.length, since: digest.since, mailed };
  if (!site) return done;
  try {
    const pages = await buildSite(store, now, { disclosures }, sweepState ? await sweepState.load() : undefined);
    await site.publish(pages);
    return { ...done, sitePages: pages.length };
  } catch (err) {
    return { ...done, sitePages: 0, siteError: (err as Error).message };
  }
}
