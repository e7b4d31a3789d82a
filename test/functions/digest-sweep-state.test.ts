/**
 * AWS mode's digest and site read the deployed sweeps' state from the table (issue 27 item 4/5): the
 * digest handler, given the mailing runtime's sweep state (store/table-sweep-state.ts over the table the
 * sweeper and workers write, here the memory table), mails a "CRL health" section with the sweep's new
 * findings, and publishes the site's CRL-health pages; the mailing runtime and the CLI's AWS runtime both
 * open that state over their table.
 */
import { describe, expect, it } from 'vitest';
import type { ScheduledEvent } from 'aws-lambda';
import { MemoryTable } from '../../src/adapters/memory/memory-table.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import type { MailMessage } from '../../src/ports/mail.js';
import type { HealthFindingState } from '../../src/ports/revocation-index.js';
import { TableStore } from '../../src/store/table-store.js';
import { TableSweepState } from '../../src/store/table-sweep-state.js';
import { createDigestHandler } from '../../functions/digest.js';
import { mailingDepsFromEnvironment } from '../../functions/shared/mailing.js';
import { createObservability } from '../../functions/shared/observability.js';
import { openAwsCliRuntime } from '../../src/runtime/aws-cli.js';
import { ENV } from '../../src/runtime/env.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const HOUR = 3_600_000;
const URL_DOWN = 'http://crl.down.example/ca.crl';

const scheduled = (): ScheduledEvent => ({
  version: '0',
  id: 'e1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date(NOW).toISOString(),
  region: 'eu-west-1',
  resources: [],
  detail: {},
});

describe('the AWS digest and site read the sweep state in the table', () => {
  it('mails the CRL-health section of the deployed sweeps and publishes the CRL-health pages', async () => {
    const table = new MemoryTable();
    const store = new TableStore(table);
    const ledger = new TableSweepState(table);
    // What a sweep's workers and its finisher wrote (sweep/fan-out.ts): the run, and a finding of one URL.
    await ledger.recordSweep({ sweep: 7, startedAt: NOW - 2 * HOUR, finishedAt: NOW - HOUR, urls: 1, changed: 0, unchanged: 0, faults: 1 });
    const finding: HealthFindingState = {
      code: 'crl_unreachable',
      owner: 'Down Owner',
      url: URL_DOWN,
      subject: '',
      message: 'HTTP 404',
      firstSeen: NOW - 2 * HOUR,
      lastSeen: NOW - 2 * HOUR,
      resolvedAt: null,
    };
    await ledger.putHealth({ [`crl_unreachable ${URL_DOWN}`]: finding });

    const mails: MailMessage[] = [];
    const published: string[] = [];
    const handler = createDigestHandler(() => ({
      store,
      mailer: { send: async (m) => void mails.push(m) },
      clock: new FakeClock(NOW),
      mail: { sender: 'revwatch@ca.example', defaultRecipients: [], digestRecipients: ['forum@ca.example'] },
      disclosures: null,
      sweepState: new TableSweepState(table),
      site: { publish: async (files) => void published.push(...files.map((f) => f.path)) },
      ...createObservability(),
    }));
    const r = await handler(scheduled());
    expect(r.mailed).toBe(true);
    expect(mails).toHaveLength(1);
    const text = mails[0]!.text;
    expect(text).toMatch(/Last sweep 7 \(2026-12-07T10:00:00Z\): 1 open finding\(s\); 1 new, 0 resolved/);
    expect(text).toContain('Down Owner:');
    expect(text).toContain(`crl_unreachable: ${URL_DOWN}`);
    expect(published).toContain('crl-health/index.html');
    expect(published.some((p) => p.startsWith('crl-health/owners/'))).toBe(true);
  });

  it('the mailing runtime (notifier, digest) and the CLI in AWS mode open the sweep state over their table', () => {
    const env = { [ENV.table]: 'revwatch-table', [ENV.sender]: 'revwatch@ca.example', AWS_REGION: 'eu-west-1' };
    expect(mailingDepsFromEnvironment(env).sweepState).toBeInstanceOf(TableSweepState);
    const cli = openAwsCliRuntime({ home: '/nonexistent', env, clock: new FakeClock(NOW) });
    expect(cli.sweepState).toBeInstanceOf(TableSweepState);
    void cli.close();
  });
});
