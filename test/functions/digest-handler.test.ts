/**
 * The digest Lambda handler, run in-process with a realistic EventBridge
 * scheduled event against the real DynamoDB adapter on dynalite (filled by a
 * demo run), mailing through the real SES client to aws-ses-v2-local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScheduledEvent } from 'aws-lambda';
import { run } from '../../src/cli/main.js';
import { FakeClock } from '../../src/adapters/system-clock.js';
import { openEmbeddedStore, type OpenStore } from '../../src/adapters/local/embedded-store.js';
import { SesMailer } from '../../src/adapters/aws/ses-mailer.js';
import { createDigestHandler } from '../../functions/digest.js';
import { loadConfig } from '../../src/runtime/env.js';
import { createObservability } from '../../functions/shared/observability.js';
import { recipients, SesEmulator } from '../helpers/ses-emulator.js';
import { S3Client } from '@aws-sdk/client-s3';
import { S3SitePublisher } from '../../src/adapters/aws/s3-site-publisher.js';

const NOW = Date.parse('2026-06-10T12:00:00Z');

const scheduledEvent = (time: string): ScheduledEvent => ({
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time,
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/revwatch-weekly-digest'],
  detail: {},
});

describe('digest handler', () => {
  const home = mkdtempSync(join(tmpdir(), 'revwatch-fn-digest-'));
  const clock = new FakeClock(NOW);
  const ses = new SesEmulator();
  let open: OpenStore;

  beforeAll(async () => {
    expect(await run(['--home', home, 'demo'], { stdout: () => undefined, stderr: () => undefined, env: {}, clock })).toBe(0);
    open = await openEmbeddedStore(home);
    await ses.start();
  });
  afterAll(async () => {
    await open?.close();
    await ses.stop();
  });

  it('mails the digest to the configured recipients, then counts findings as new from that digest on', async () => {
    const config = loadConfig({
      REVWATCH_TABLE: 'revwatch',
      REVWATCH_SENDER: 'revwatch@ca.example',
      REVWATCH_DIGEST_RECIPIENTS: 'policy@forum.example, cas@root.example',
    });
    const handler = createDigestHandler(() => ({
      mail: config,
      store: open.store,
      mailer: new SesMailer(ses.client()),
      clock,
      disclosures: null,
      ...createObservability(),
    }));
    const first = await handler(scheduledEvent(new Date(NOW).toISOString()));
    expect(first).toEqual({ cas: 1, since: new Date(NOW - 7 * 86_400_000).toISOString().replace('.000', ''), mailed: true });
    let sent = await ses.emails();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ from: 'revwatch@ca.example', subject: 'revwatch digest 2026-06-10: 1 CA(s)' });
    expect(recipients(sent[0]!)).toEqual(['cas@root.example', 'policy@forum.example']);
    expect(sent[0]!.body.text).toContain('CN=revwatch Demo Issuing CA, O=revwatch demo');
    expect(sent[0]!.body.text).toMatch(/New findings:\n {2}\* violation/);
    expect(sent[0]!.attachments[0]!.filename).toBe('digest.md');
    expect(Buffer.from(sent[0]!.attachments[0]!.content, 'base64').toString('utf8')).toMatch(/^## Revocation deadline digest/);

    clock.advance(7 * 86_400_000);
    const second = await handler(scheduledEvent(clock.now().toISOString()));
    sent = await ses.emails();
    expect(sent).toHaveLength(2);
    expect(second.since).toBe(new Date(NOW).toISOString().replace('.000', ''));
    // Last week's findings are not repeated; the only new one is the SHOULD deadline the
    // misissuance case (reported two hours before the first digest) has passed since.
    expect(sent[1]!.body.text).not.toContain('revocation_backdated');
    expect(sent[1]!.body.text!.match(/^ {2}\* (violation|warning) /gm)).toHaveLength(1);
    expect(sent[1]!.body.text).toMatch(/warning should_deadline_missed, serial \w+ \(case demo-misissuance\)/);
  });

  it('refuses a missing or malformed configuration with a clear error', () => {
    expect(() => loadConfig({ REVWATCH_SENDER: 'a@b.example' })).toThrow('REVWATCH_TABLE is not set');
    expect(() => loadConfig({ REVWATCH_TABLE: 't', REVWATCH_SENDER: 'nobody' })).toThrow(/not an email address/);
    expect(() =>
      loadConfig({ REVWATCH_TABLE: 't', REVWATCH_SENDER: 'a@b.example', REVWATCH_DIGEST_RECIPIENTS: 'x@y.example,bad' }),
    ).toThrow(/"bad"/);
  });

  it('publishes the dashboard under site/ after the digest, and a failed publication fails neither the digest nor its delivery', async () => {
    const config = loadConfig({
      REVWATCH_TABLE: 'revwatch',
      REVWATCH_SENDER: 'revwatch@ca.example',
      REVWATCH_DIGEST_RECIPIENTS: 'policy@forum.example',
    });
    // The S3 client at the SDK boundary: every PutObject is captured in the process, nothing leaves it.
    const puts: { key: string; contentType: string; body: string }[] = [];
    const s3 = new S3Client({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      forcePathStyle: true,
      maxAttempts: 1,
    });
    s3.middlewareStack.add(
      (_next, context) => async (args) => {
        const req = args.request as { path: string; headers: Record<string, string>; body: Uint8Array | string };
        if (context.commandName !== 'PutObjectCommand') throw new Error(`unexpected ${context.commandName}`);
        puts.push({
          key: decodeURIComponent(req.path.replace('/evidence-bucket/', '')),
          contentType: req.headers['content-type']!,
          body: Buffer.from(req.body).toString('utf8'),
        });
        return { output: { $metadata: { httpStatusCode: 200 } }, response: {} };
      },
      { step: 'build', priority: 'low', name: 'capturePuts' },
    );
    const before = (await ses.emails()).length;
    const published = createDigestHandler(() => ({
      mail: config,
      store: open.store,
      mailer: new SesMailer(ses.client()),
      clock,
      disclosures: null,
      ...createObservability(),
      site: new S3SitePublisher(s3, 'evidence-bucket'),
    }));
    const r = await published(scheduledEvent(clock.now().toISOString()));
    expect(r.mailed).toBe(true);
    expect(r.sitePages).toBe(puts.length);
    const keys = puts.map((p) => p.key).sort();
    expect(keys).toContain('site/index.html');
    expect(keys.filter((k) => /^site\/cases\/[^/]+\.html$/.test(k)).length).toBeGreaterThanOrEqual(1);
    expect(keys.every((k) => k.startsWith('site/'))).toBe(true);
    expect(puts.every((p) => p.contentType === 'text/html; charset=utf-8')).toBe(true);
    expect(puts.find((p) => p.key === 'site/index.html')!.body).toContain('demo-key-compromise');

    const failing = createDigestHandler(() => ({
      mail: config,
      store: open.store,
      mailer: new SesMailer(ses.client()),
      clock,
      disclosures: null,
      ...createObservability(),
      site: {
        publish: async () => {
          throw new Error('AccessDenied');
        },
      },
    }));
    const f = await failing(scheduledEvent(clock.now().toISOString()));
    expect(f).toMatchObject({ mailed: true, sitePages: 0 });
    // Both digests were delivered once each: the failed publication did not fail (and so retry) the digest.
    expect((await ses.emails()).length).toBe(before + 2);
  });

  it('refuses to publish a page whose path would leave site/', async () => {
    const s3 = new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const publisher = new S3SitePublisher(s3, 'evidence-bucket');
    for (const path of ['../crls/x.crl', '/index.html', 'cases//x.html', 'cases/../../x']) {
      await expect(publisher.publish([{ path, bytes: new Uint8Array() }])).rejects.toThrow(/outside site\//);
    }
  });
});
