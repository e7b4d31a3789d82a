/**
 * One Lambda execution environment of the harness (test/aws/harness.ts): a
 * Node.js process that loads the bundle `cdk synth` wrote (cdk.out/asset.*)
 * once, as a cold start does, and runs its handler export for each invocation
 * the harness sends over IPC. It records every environment variable the code
 * reads (process.env is wrapped before the bundle loads), so the harness can
 * compare them with what the template sets.
 *
 * Plain JavaScript: it runs in the function's process, where no TypeScript
 * loader is wanted.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [assetDir, handlerSpec] = process.argv.slice(2);
const reads = new Set();
const realEnv = process.env;
process.env = new Proxy(realEnv, {
  get(target, key) {
    if (typeof key === 'string') reads.add(key);
    return Reflect.get(target, key);
  },
  has(target, key) {
    if (typeof key === 'string') reads.add(key);
    return Reflect.has(target, key);
  },
});

const dot = handlerSpec.lastIndexOf('.');
const moduleName = handlerSpec.slice(0, dot);
const exportName = handlerSpec.slice(dot + 1);
// Lambda's Node.js runtime looks for the module as .mjs, then .js, then .cjs.
const file = ['.mjs', '.js', '.cjs'].map((ext) => join(assetDir, moduleName + ext)).find((f) => existsSync(f));

const serialize = (err) => ({
  errorType: err?.name ?? typeof err,
  errorMessage: err?.message ?? String(err),
  stack: typeof err?.stack === 'string' ? err.stack.split('\n').slice(0, 8) : [],
});

let handler;
try {
  if (!file) throw new Error(`no ${moduleName}.mjs/.js/.cjs in ${assetDir}`);
  const mod = await import(pathToFileURL(file).href);
  handler = mod[exportName];
  if (typeof handler !== 'function') throw new Error(`${handlerSpec}: the module exports no function "${exportName}"`);
  process.send({ type: 'ready' });
} catch (err) {
  process.send({ type: 'init-error', error: serialize(err), envReads: [...reads] });
  process.exit(1);
}

process.on('message', async (msg) => {
  if (msg.type !== 'invoke') return;
  const deadline = msg.deadline;
  const context = {
    awsRequestId: msg.requestId,
    functionName: msg.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: msg.functionArn,
    memoryLimitInMB: String(msg.memoryMb),
    logGroupName: `/aws/lambda/${msg.functionName}`,
    logStreamName: 'harness',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {},
    fail() {},
    succeed() {},
  };
  try {
    const value = await handler(msg.event, context);
    process.send({ type: 'result', id: msg.id, ok: true, value: value ?? null, envReads: [...reads] });
  } catch (err) {
    process.send({ type: 'result', id: msg.id, ok: false, error: serialize(err), envReads: [...reads] });
  }
});
