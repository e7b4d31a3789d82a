/**
 * The harness's Lambda emulation on a bundle of its own: warm processes reused,
 * a handler's error reported, the process killed at the function's timeout and
 * replaced, a crash reported as Runtime.ExitError, reserved concurrency bounding
 * what runs at once, and the environment check naming a variable set but unread.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeTime, Harness } from './harness.js';
import type { Services } from './services.js';
import type { FunctionDef, StackModel } from './template.js';

const dir = mkdtempSync(join(tmpdir(), 'revwatch-lambda-'));
writeFileSync(
  join(dir, 'index.mjs'),
  `export const handler = async (event, context) => {
  if (event.sleep) await new Promise((r) => setTimeout(r, event.sleep));
  if (event.exit) process.exit(3);
  if (event.fail) throw new TypeError('boom');
  return { read: process.env.REVWATCH_READ, pid: process.pid, left: context.getRemainingTimeInMillis() > 0 };
};
`,
);
const def: FunctionDef = {
  logicalId: 'ProbeFunction0123ABCD',
  name: 'ProbeFunction0123ABCD',
  arn: 'arn:aws:lambda:us-east-1:000000000000:function:ProbeFunction0123ABCD',
  description: 'probe',
  assetDir: dir,
  handler: 'index.handler',
  environment: { REVWATCH_READ: 'yes', REVWATCH_NEVER_READ: 'no' },
  timeoutSeconds: 2,
  memoryMb: 128,
  reservedConcurrency: 1,
  roleLogicalId: 'ProbeRole',
  statements: [],
  maximumRetryAttempts: 2,
  deadLetterArn: null,
};
const stack = { functions: [def], rules: [], mappings: [], queues: [], alarms: [] } as unknown as StackModel;
const services = { endpointEnv: () => ({}), onEvent: () => {} } as unknown as Services;
const harness = new Harness(stack, services, new FakeTime(0));
const probe = harness.fn('Probe');

afterAll(() => harness.stop());

describe('the Lambda emulation', () => {
  it("runs the handler export with the template's environment, warm on the second call", async () => {
    const a = await probe.invoke({}, 'test');
    const b = await probe.invoke({}, 'test');
    expect(a.ok).toBe(true);
    expect(a.value).toMatchObject({ read: 'yes', left: true });
    expect((b.value as { pid: number }).pid).toBe((a.value as { pid: number }).pid);
  });

  it("reports the handler's error and keeps the process", async () => {
    const r = await probe.invoke({ fail: true }, 'test');
    expect(r.ok).toBe(false);
    expect(r.error).toMatchObject({ errorType: 'TypeError', errorMessage: 'boom' });
  });

  it('kills an invocation at the timeout, and the next one starts a fresh process', async () => {
    const before = ((await probe.invoke({}, 'test')).value as { pid: number }).pid;
    const started = Date.now();
    const r = await probe.invoke({ sleep: 30_000 }, 'test');
    expect(r.error?.errorType).toBe('Sandbox.Timedout');
    expect(Date.now() - started).toBeLessThan(20_000);
    const after = await probe.invoke({}, 'test');
    expect((after.value as { pid: number }).pid).not.toBe(before);
  });

  it('reports a process that dies as Runtime.ExitError', async () => {
    const r = await probe.invoke({ exit: true }, 'test');
    expect(r.error?.errorType).toBe('Runtime.ExitError');
    expect((await probe.invoke({}, 'test')).ok).toBe(true);
  });

  it('runs no more at once than the reserved concurrency', async () => {
    await Promise.all([probe.invoke({ sleep: 300 }, 'test'), probe.invoke({ sleep: 300 }, 'test'), probe.invoke({ sleep: 300 }, 'test')]);
    expect(probe.maxInFlight).toBe(1);
  });

  it('names a variable the template sets and the code never reads', () => {
    const [probeEnv] = harness.environmentMismatches();
    expect(probeEnv).toMatchObject({ fn: 'Probe', invoked: true, setButUnread: ['REVWATCH_NEVER_READ'], readButUnset: [] });
  });
});
