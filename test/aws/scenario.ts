/**
 * The deployed system, run end to end (issue 28). Started by
 * test/aws/deployed.test.ts inside a network namespace of its own
 * (`unshare -n`), whose only interface is its loopback: the OpenSSL CA
 * listens there on CA_ADDRESS, an address the worker's address guard takes
 * for a public one (the deployed worker refuses loopback and private
 * responders), and every emulator on 127.0.0.1. Nothing can leave the
 * namespace, whatever the code does.
 *
 * It synthesizes the stack (`cdk synth`), deploys the template to the local
 * services, tracks cases with `revwatch --aws track`, drives schedule ticks
 * through the harness and writes what happened, as JSON, to argv[2]; the
 * test asserts on it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { OpensslCa, type IssuedLeaf } from '../helpers/openssl-ca.js';
import { FakeTime, Harness } from './harness.js';
import { Services } from './services.js';
import { loadStack, REGION } from './template.js';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { openDynamoTable } from '../../src/adapters/aws/dynamo-table.js';
import { SystemClock } from '../../src/adapters/system-clock.js';
import { readCertificates } from '../../src/pki/certificate.js';
import { TableRevocationIndex } from '../../src/store/table-revocation-index.js';
import { TableSweepState } from '../../src/store/table-sweep-state.js';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
export const CA_ADDRESS = '100.200.100.1';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export const SENDER = 'revwatch@ca.example';
export const RECIPIENT = 'compliance@ca.example';
export const STACK_CONTEXT: Record<string, string> = {
  sender: SENDER,
  recipients: RECIPIENT,
  // Two workers: enough for two jobs to race on one certificate, light on a 2-core machine.
  workerConcurrency: '2',
  // Set, so the sweeper's every variable is in the template; its CCADB refresh fails in the namespace (no DNS), as logged.
  ccadbReportUrl: 'https://ccadb.example/AllCertificateRecordsCSVFormatv4',
};

async function synth(outdir: string): Promise<number> {
  const started = Date.now();
  const args = ['synth', '--quiet', '-o', outdir, ...Object.entries(STACK_CONTEXT).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  await exec(join(ROOT, 'node_modules/.bin/cdk'), args, {
    cwd: ROOT,
    maxBuffer: 16 << 20,
    env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
  });
  return Date.now() - started;
}

/** The CA's HTTP face: the CRL made fresh per request, the CA certificate, and /ocsp forwarded to `openssl ocsp`. */
function serveCa(getCa: () => OpensslCa, hits: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const ca = getCa();
        hits.push(`${req.method} ${req.url}`);
        if (req.url === '/ca.crl') return res.end(ca.crl(Date.now() - 60_000, Date.now() + 7 * DAY));
        if (req.url === '/ca.der') return res.end(readFileSync(ca.path('ca.der')));
        const url = req.url ?? '/';
        if (url === '/ocsp' || url.startsWith('/ocsp/')) {
          // RFC 6960 A.1: a GET carries the request base64- and URL-encoded in the path.
          const request =
            req.method === 'GET' ? Buffer.from(decodeURIComponent(url.slice('/ocsp/'.length)), 'base64') : Buffer.concat(chunks);
          const r = await fetch(`http://127.0.0.1:${ca.ocspPort}/`, {
            method: 'POST',
            body: request,
            headers: { 'content-type': 'application/ocsp-request' },
          }).catch(() => null);
          if (!r) {
            res.statusCode = 502;
            return res.end();
          }
          res.setHeader('content-type', 'application/ocsp-response');
          return res.end(Buffer.from(await r.arrayBuffer()));
        }
        res.statusCode = 404;
        res.end();
      })();
    });
  });
  return new Promise((resolve) => server.listen(0, CA_ADDRESS, () => resolve(server)));
}

export interface ScenarioResult {
  synthMs: number;
  timeline: { at: number; text: string }[];
  invocations: unknown[];
  emails: { subject: string; to: string[]; from: string; text: string }[];
  environment: ReturnType<Harness['environmentMismatches']>;
  policy: ReturnType<Harness['policyViolations']>;
  messages: ReturnType<Harness['messageLimits']>;
  functions: { name: string; reservedConcurrency: number | null; maxInFlight: number; timeoutSeconds: number; bundle: string }[];
  status: Record<'aws' | 'local', unknown>;
  bundles: { mode: 'aws' | 'local'; caseId: string; files: string[]; manifest: unknown; verify: number }[];
  /** Emails in SES after the first check run. */
  afterFirstRun: number;
  /** The evidence bucket after the digest. */
  objects: { key: string; bytes: number; sha256: string; contentType: string }[];
  caHits: string[];
  logsOfFailures: string[];
  faults: {
    raceKey: string | null;
    raceConditionFailures: number;
    sesRefused: number;
    killed: string | null;
    s3Refused: number;
    poisonBody: string;
    snapshots?: { url: string; sha256: string }[];
    archived?: string[];
    deadLettered?: { queue: string; messageId: string; body: string; receives: number }[];
    dlqBodies?: string[];
    alarms?: { alarm: string; queue: string; value: number; state: string }[];
    jobsDone?: { runId: string; jobId: string; duplicate: boolean; receives: number }[];
    checkCompleted?: string[];
    raceStatus?: unknown;
  };
  /** The sweep (issue 27 item 5): two sweeps of the CA's disclosed CRLs through sweeper → queue → worker. */
  sweep: SweepResult;
  errors: string[];
}

export interface SweepResult {
  importExit: number;
  /** The sweeper's answer at each of the two ticks (the sweep planned, its URLs and jobs). */
  planned: unknown[];
  /** The sweep numbers of the two sweeps, as planned. */
  sweeps: number[];
  /** Every "Sweep Completed" event's detail, in order. */
  completed: { sweep: number; urls: number; changed: number; unchanged: number; faults: number }[];
  /** The worker killed right after it counted a job of the second sweep. */
  killed: string | null;
  jobsDone: { sweep: number; jobId: string; duplicate: boolean; receives: number }[];
  crlUrl: string;
  goneUrl: string;
  /** The revocation index's records of the three serials, by leaf. */
  records: Record<'kept' | 'added' | 'removed', unknown>;
  /** The CA CRL's change segments: sweep, added and removed serials. */
  segments: { sweep: number; added: string[]; removed: string[] }[];
  /** The CA CRL's snapshots and whether the evidence bucket holds each one's CRL under its SHA-256. */
  snapshots: { sweep: number; sha256: string; archived: boolean; bytesMatch: boolean }[];
  urlStates: Record<string, unknown>;
  health: { code: string; url: string; subject: string; firstSeen: number; lastSeen: number; resolvedAt: number | null }[];
  recordedSweeps: number[];
  /** The notifier's CRL-health notices (on "Sweep Completed"), as SES holds them after the two sweeps. */
  healthEmails: { subject: string; text: string }[];
}

async function main(): Promise<void> {
  if (process.env.REVWATCH_IN_NETNS !== '1') throw new Error('refusing to run outside the test network namespace');
  const out = process.argv[2];
  if (!out) throw new Error('usage: scenario.ts <result.json>');
  const work = mkdtempSync(join(tmpdir(), 'revwatch-aws-'));
  const cdkOut = join(work, 'cdk.out');
  const errors: string[] = [];
  const synthMs = await synth(cdkOut);

  const time = new FakeTime(Date.now());
  const services = await new Services(time.now).start();
  const stack = loadStack(cdkOut, 'revwatch', services.gateways.sqs.url);
  await services.deploy(stack);
  const harness = new Harness(stack, services, time);
  harness.note(`deployed ${stack.functions.length} functions, ${stack.queues.length} queues, table ${stack.table.name}`);

  const caHits: string[] = [];
  // The server first (its port goes into the certificates' URLs), the CA after.
  let ca!: OpensslCa;
  const caServer = await serveCa(() => ca, caHits);
  const port = (caServer.address() as { port: number }).port;
  ca = new OpensslCa(`http://${CA_ADDRESS}:${port}`, 'Harness CA').init('ec');
  const leaves: Record<string, IssuedLeaf> = {
    overdue: ca.issue('leaf-overdue'),
    revoked: ca.issue('leaf-revoked'),
  };
  const now = Date.now();
  ca.revoke(leaves.revoked!, now - 2 * HOUR, 'keyCompromise');
  await ca.startResponder({ signer: 'delegated' });

  const cliEnv = {
    ...process.env,
    ...services.endpointEnv('cli'),
    REVWATCH_TABLE: stack.outputs.TableName!,
    REVWATCH_EVIDENCE_BUCKET: stack.outputs.EvidenceBucketName!,
  };
  const localHome = join(work, 'local-home');
  /** `revwatch --aws …` against the emulated account, or, with `local`, the same command on a local home. */
  const run = async (mode: 'aws' | 'local', args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const env = mode === 'aws' ? cliEnv : { PATH: process.env.PATH ?? '', HOME: work };
    const global = mode === 'aws' ? ['--aws'] : ['--home', localHome];
    try {
      const r = await exec('node', [join(ROOT, 'bin/revwatch.js'), ...global, ...args], { env, maxBuffer: 64 << 20 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const cli = (...args: string[]) => run('aws', args);

  const cases = [
    { id: 'overdue', leaf: 'overdue', reportedAt: now - 6 * DAY, reason: 'misissuance' },
    { id: 'revoked', leaf: 'revoked', reportedAt: now - 12 * HOUR, reason: 'key-compromise' },
  ];
  const trackArgs = (c: (typeof cases)[number]): string[] => [
    'track',
    leaves[c.leaf]!.pemPath,
    '--issuer',
    ca.path('ca.pem'),
    '--case',
    c.id,
    '--reported-at',
    iso(Math.floor(c.reportedAt / 60_000) * 60_000),
    '--reason',
    c.reason,
  ];
  for (const c of cases) {
    const r = await cli(...trackArgs(c));
    harness.note(`revwatch --aws track --case ${c.id}: exit ${r.code}`);
    if (r.code !== 0) errors.push(`track ${c.id}: exit ${r.code}: ${r.stderr}`);
  }

  // The first check run: planner → queue → workers → "Check Completed" → notifier → SES.
  await harness.tick('CheckSchedule');

  const afterFirstRun = (await services.ses.emails()).length;
  // The digest's schedule (weekly): the clock moves to its next occurrence; the check and backstop schedules
  // that fall in the step fire once each as well.
  await harness.tick('DigestSchedule');
  const bucket = stack.outputs.EvidenceBucketName!;
  const objects = [...services.s3.objects(bucket).entries()].map(([key, o]) => ({
    key,
    bytes: o.body.length,
    sha256: createHash('sha256').update(o.body).digest('hex'),
    contentType: o.contentType,
  }));

  // The same scenario on a local home (embedded store, local evidence files): two check runs, as in AWS.
  for (const c of cases) {
    const r = await run('local', trackArgs(c));
    if (r.code !== 0) errors.push(`local track ${c.id}: exit ${r.code}: ${r.stderr}`);
  }
  for (let i = 0; i < 2; i++) {
    const r = await run('local', ['--json', 'check']);
    if (r.code !== 0) errors.push(`local check: exit ${r.code}: ${r.stderr}`);
  }
  harness.note('the same cases on a local home: revwatch track, revwatch check twice');
  const status: Record<'aws' | 'local', unknown> = { aws: null, local: null };
  const bundles: ScenarioResult['bundles'] = [];
  for (const mode of ['aws', 'local'] as const) {
    const r = await run(mode, ['--json', 'status']);
    if (r.code !== 0) errors.push(`${mode} status: exit ${r.code}: ${r.stderr}`);
    status[mode] = JSON.parse(r.stdout || 'null');
    for (const c of cases) {
      const dir = join(work, `bundle-${mode}-${c.id}`);
      const b = await run(mode, ['report', '--case', c.id, '--format', 'bundle', '--out', dir]);
      if (b.code !== 0) errors.push(`${mode} report --format bundle --case ${c.id}: exit ${b.code}: ${b.stderr}`);
      const verify = await exec('sh', ['verify.sh'], { cwd: dir }).then(
        () => 0,
        (e: { code: number }) => e.code,
      );
      const files = execFileSync('find', ['.', '-type', 'f'], { cwd: dir, encoding: 'utf8' })
        .split('\n')
        .filter(Boolean)
        .map((f) => f.replace(/^\.\//, ''))
        .sort();
      bundles.push({ mode, caseId: c.id, files, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')), verify });
    }
  }
  harness.note('status and report --format bundle, from the emulated account and from the local home');

  // -- faults ---------------------------------------------------------------------------------
  const gw = services.gateways;
  const faults: ScenarioResult['faults'] = {
    raceKey: null,
    raceConditionFailures: 0,
    sesRefused: 0,
    killed: null,
    s3Refused: 0,
    poisonBody: '',
  };

  // F3 and F4: a third case, revoked, whose first run has its CRL and OCSP jobs write its record at once
  // (the gateway holds the first conditional write until the second arrives), and whose notice SES refuses.
  const raceLeaf = ca.issue('leaf-race');
  ca.revoke(raceLeaf, Date.now() - HOUR, 'keyCompromise');
  await ca.startResponder({ signer: 'delegated' });
  const raceCase = { id: 'race', leaf: 'race', reportedAt: Date.now() - 6 * HOUR, reason: 'key-compromise' };
  leaves.race = raceLeaf;
  {
    const r = await cli(...trackArgs(raceCase));
    harness.note(`revwatch --aws track --case race: exit ${r.code}`);
    if (r.code !== 0) errors.push(`track race: exit ${r.code}: ${r.stderr}`);
  }
  let held: { release: () => void; caller: string } | null = null;
  gw.dynamodb.intercept = async (call, forward) => {
    const pk = call.input.pk as string | undefined;
    const isRecordWrite = call.action === 'dynamodb:UpdateItem' && pk === 'CASE#race' && /rev = :rev/.test(String(call.input.condition));
    if (!isRecordWrite || !call.caller.startsWith('Worker')) return forward();
    faults.raceKey = `${pk} ${String(call.input.sk)}`;
    if (held === null) {
      // The first writer waits for the second (or 20 s, should the second never come).
      let release!: () => void;
      const go = new Promise<void>((r) => {
        release = r;
      });
      held = { release, caller: call.caller };
      const timer = setTimeout(release, 20_000);
      await go;
      clearTimeout(timer);
      return forward();
    }
    if (held.caller !== call.caller) {
      // The second writer's update goes first; the held one then finds the record's revision moved on.
      const reply = await forward();
      held.release();
      held = { release: () => {}, caller: '' };
      return reply;
    }
    return forward();
  };
  gw.ses.intercept = async (call, forward) => {
    if (call.action !== 'ses:SendRawEmail') return forward();
    faults.sesRefused++;
    return {
      status: 400,
      headers: { 'content-type': 'text/xml' },
      body: Buffer.from(
        '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Maximum sending rate exceeded.</Message></Error></ErrorResponse>',
      ),
    };
  };
  await harness.tick('CheckSchedule');
  gw.dynamodb.intercept = null;
  gw.ses.intercept = null;
  faults.raceConditionFailures = gw.dynamodb.calls.filter(
    (c) => c.input.pk === 'CASE#race' && c.errorCode === 'ConditionalCheckFailedException',
  ).length;
  harness.note(
    `SES refused ${faults.sesRefused} send(s); the record of the race case met ${faults.raceConditionFailures} failed condition(s)`,
  );

  // F1, F2, F5: the next run. A poison message on the job queue; the worker archiving a new CRL snapshot
  // finds S3 failing (every attempt of the SDK); the worker counting the other job is killed right after
  // its count is stored, before the queue hears of it.
  faults.poisonBody = JSON.stringify({ v: 1, runId: 'no-such-run', jobId: 'j0' });
  {
    const sqs = new SQSClient({
      region: REGION,
      endpoint: gw.sqs.url,
      credentials: { accessKeyId: 'harness', secretAccessKey: 'harness-secret' },
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.outputs.JobQueueUrl!, MessageBody: faults.poisonBody }));
    sqs.destroy();
    harness.note('a poison message on the job queue');
  }
  gw.s3.intercept = async (call, forward) => {
    if (call.action !== 's3:PutObject' || !String(call.input.key).startsWith('crls/')) return forward();
    faults.s3Refused++;
    return {
      status: 503,
      headers: { 'content-type': 'application/xml' },
      body: Buffer.from('<Error><Code>ServiceUnavailable</Code><Message>Please reduce your request rate.</Message></Error>'),
    };
  };
  gw.dynamodb.intercept = async (call, forward) => {
    const reply = await forward();
    const counted =
      call.action === 'dynamodb:UpdateItem' && call.input.pk === 'OPENRUNS' && /NOT contains\(done/.test(String(call.input.condition));
    if (counted && reply.status === 200 && faults.killed === null && call.caller.startsWith('Worker')) {
      faults.killed = call.caller;
      harness.killCaller(call.caller);
    }
    return reply;
  };
  await harness.tick('CheckSchedule');
  gw.s3.intercept = null;
  gw.dynamodb.intercept = null;
  harness.note(`S3 refused ${faults.s3Refused} archive write(s); killed ${faults.killed ?? 'nobody'}`);
  // Until the poison message has been received maxReceiveCount times and moved on, step past each visibility timeout.
  const jobQueue = stack.queues.find((q) => q.url === stack.outputs.JobQueueUrl)!;
  for (let i = 0; i < 4 && !services.sqs.deadLettered.some((d) => d.body === faults.poisonBody); i++) {
    const next = services.sqs.nextVisibleAt(jobQueue.url);
    await harness.advance((next ?? time.now()) - time.now() + 1000);
  }

  // -- what the faults left ------------------------------------------------------------------
  const db = new DynamoDBClient({
    region: REGION,
    endpoint: services.dynamoUrl,
    credentials: { accessKeyId: 'harness', secretAccessKey: 'harness-secret' },
  });
  const items = (await db.send(new ScanCommand({ TableName: stack.table.name }))).Items ?? [];
  db.destroy();
  const snapshots = items
    .filter((i) => i.pk?.S?.startsWith('SNAP#'))
    .map((i) => ({ url: i.pk!.S!.slice('SNAP#'.length), sha256: i.sha256?.S ?? '' }));
  const dlq = stack.queues.find((q) => q.url === stack.outputs.DeadLetterQueueUrl)!;
  const alarms = stack.alarms
    .filter((a) => a.namespace === 'AWS/SQS' && a.metricName === 'ApproximateNumberOfMessagesVisible')
    .map((a) => {
      const q = stack.queues.find((x) => x.name === a.dimensions.QueueName)!;
      const value = services.sqs.depth(q.url).visible;
      const breached = a.comparison === 'GreaterThanOrEqualToThreshold' ? value >= a.threshold : false;
      return { alarm: a.logicalId, queue: q.name, value, state: breached ? 'ALARM' : 'OK' };
    });
  const jobsDone = [...harness.functions.values()]
    .flatMap((f) => f.logs)
    .flatMap((line) => {
      const json = line.slice(line.indexOf(' ') + 1);
      if (!json.startsWith('{')) return [];
      const entry = JSON.parse(json) as { message?: string; runId?: string; jobId?: string; duplicate?: boolean; receives?: number };
      return entry.message === 'check job done'
        ? [{ runId: entry.runId!, jobId: entry.jobId!, duplicate: entry.duplicate === true, receives: entry.receives ?? 0 }]
        : [];
    });
  const verifyEvidence = await cli('--json', 'verify-evidence');
  if (verifyEvidence.code !== 0)
    errors.push(`verify-evidence --aws: exit ${verifyEvidence.code}: ${verifyEvidence.stderr}${verifyEvidence.stdout}`);
  const finalStatus = await cli('--json', 'status', '--case', 'race');
  Object.assign(faults, {
    snapshots,
    archived: [...services.s3.objects(bucket).keys()].filter((k) => k.startsWith('crls/')),
    deadLettered: services.sqs.deadLettered,
    dlqBodies: services.sqs.bodies(dlq.url),
    alarms,
    jobsDone,
    checkCompleted: services.events.filter((e) => e['detail-type'] === 'Check Completed').map((e) => (e.detail as { runId: string }).runId),
    raceStatus: JSON.parse(finalStatus.stdout || 'null') as unknown,
  });

  const emails = (await services.ses.emails()).map((e) => ({
    subject: e.subject,
    to: e.destination.to,
    from: e.from,
    text: e.body.text ?? '',
  }));

  // -- the sweep (issue 27 item 5) -------------------------------------------------------------------
  // The CA is disclosed in the CCADB (imported with revwatch --aws ccadb import): its CRL as its full CRL, and a
  // shard that answers 404. Two sweep ticks, with a change between them: one leaf revoked, one unrevoked.
  const sweepResult = await (async (): Promise<SweepResult> => {
    const crlUrl = `http://${CA_ADDRESS}:${port}/ca.crl`;
    const goneUrl = `http://${CA_ADDRESS}:${port}/gone.crl`;
    const sweepLeaves = { kept: leaves.revoked!, removed: ca.issue('leaf-sweep-removed'), added: ca.issue('leaf-sweep-added') };
    ca.revoke(sweepLeaves.removed, Date.now() - 3 * HOUR, 'superseded');
    const caCert = readCertificates(readFileSync(ca.path('ca.pem')), 'ca')[0]!;
    const header = [
      'CA Owner',
      'SHA-256 Fingerprint',
      'Certificate Name',
      'Subject Key Identifier',
      'Full CRL Issued By This CA',
      'JSON Array of Partitioned CRLs',
      'X.509 Certificate (PEM)',
    ];
    const row = [
      'Harness Owner',
      caCert.sha256.toUpperCase(),
      'Harness CA',
      Buffer.from(caCert.subjectKeyId!, 'hex').toString('base64'),
      crlUrl,
      JSON.stringify([goneUrl]),
      readFileSync(ca.path('ca.pem'), 'utf8'),
    ];
    const csv = join(work, 'ccadb-records.csv');
    writeFileSync(csv, `${[header, row].map((r) => r.map((f) => `"${f.replace(/"/g, '""')}"`).join(',')).join('\r\n')}\r\n`);
    const imported = await cli('ccadb', 'import', csv);
    harness.note(`revwatch --aws ccadb import: exit ${imported.code}`);
    if (imported.code !== 0) errors.push(`ccadb import: exit ${imported.code}: ${imported.stderr}`);

    const sweeperValues = (): { sweep?: { sweep: number | null } }[] =>
      (harness.invocations as { fn: string; ok: boolean; value?: { sweep?: { sweep: number | null } } }[])
        .filter((i) => i.fn === 'Sweeper' && i.ok)
        .map((i) => i.value ?? {});
    const completedSweeps = () =>
      services.events.filter((e) => e['detail-type'] === 'Sweep Completed').map((e) => e.detail as SweepResult['completed'][number]);
    const before = sweeperValues().length;
    await harness.tick('SweepSchedule');

    ca.revoke(sweepLeaves.added, Date.now() - HOUR, 'keyCompromise');
    ca.unrevoke(sweepLeaves.removed);
    // The worker that counts a job of this sweep is killed right after the count is stored: the sweep is
    // finished by the job's redelivery after the visibility timeout, once.
    let killed: string | null = null;
    gw.dynamodb.intercept = async (call, forward) => {
      const reply = await forward();
      const counted =
        call.action === 'dynamodb:UpdateItem' && call.input.pk === 'SWEEP#OPEN' && /NOT contains\(done/.test(String(call.input.condition));
      if (counted && reply.status === 200 && killed === null && call.caller.startsWith('Worker')) {
        killed = call.caller;
        harness.killCaller(call.caller);
      }
      return reply;
    };
    await harness.tick('SweepSchedule');
    gw.dynamodb.intercept = null;
    const planned = sweeperValues().slice(before);
    const sweeps = planned.map((p) => p.sweep?.sweep ?? -1);
    for (let i = 0; i < 4 && !completedSweeps().some((c) => c.sweep === sweeps[1]); i++) {
      const next = services.sqs.nextVisibleAt(jobQueue.url);
      await harness.advance((next ?? time.now()) - time.now() + 1000);
    }
    harness.note(`sweeps ${sweeps.join(' and ')}; killed ${killed ?? 'nobody'} after it counted a sweep job`);

    const client = new DynamoDBClient({
      region: REGION,
      endpoint: services.dynamoUrl,
      credentials: { accessKeyId: 'harness', secretAccessKey: 'harness-secret' },
    });
    try {
      const table = openDynamoTable(client, { tableName: stack.table.name, clock: new SystemClock() });
      const index = new TableRevocationIndex(table);
      const state = await new TableSweepState(table).load();
      const segments = await index.segments(crlUrl);
      const issuerKey = segments[0]?.issuerKey ?? '';
      // The index keys serials as lowercase hex without leading zero bytes.
      const serialOf = (leaf: IssuedLeaf): string => BigInt(`0x${leaf.serialHex}`).toString(16).padStart(2, '0');
      const serials = Object.fromEntries(Object.entries(sweepLeaves).map(([k, leaf]) => [k, serialOf(leaf)]));
      const found = await index.records(issuerKey, Object.values(serials));
      const normalized = (hex: string): string => BigInt(`0x${hex}`).toString(16);
      const byNormal = new Map([...found.entries()].map(([serial, r]) => [normalized(serial), r]));
      const objects = services.s3.objects(bucket);
      const jobsDone = [...harness.functions.values()]
        .flatMap((f) => f.logs)
        .flatMap((line) => {
          const json = line.slice(line.indexOf(' ') + 1);
          if (!json.startsWith('{')) return [];
          const e = JSON.parse(json) as { message?: string; sweep?: number; jobId?: string; duplicate?: boolean; receives?: number };
          return e.message === 'sweep job done'
            ? [{ sweep: e.sweep!, jobId: e.jobId!, duplicate: e.duplicate === true, receives: e.receives ?? 0 }]
            : [];
        });
      return {
        importExit: imported.code,
        planned,
        sweeps,
        completed: completedSweeps(),
        killed,
        jobsDone,
        crlUrl,
        goneUrl,
        records: {
          kept: byNormal.get(normalized(serials.kept!)) ?? null,
          added: byNormal.get(normalized(serials.added!)) ?? null,
          removed: byNormal.get(normalized(serials.removed!)) ?? null,
        },
        segments: segments.map((sg) => ({
          sweep: sg.sweep,
          added: sg.added.map(([serial]) => normalized(serial)),
          removed: sg.removed.map(normalized),
        })),
        snapshots: (await index.snapshots(crlUrl)).map((sn) => {
          const o = objects.get(`crls/${sn.sha256}.crl`);
          return {
            sweep: sn.sweep,
            sha256: sn.sha256,
            archived: o !== undefined,
            bytesMatch: o !== undefined && createHash('sha256').update(o.body).digest('hex') === sn.sha256,
          };
        }),
        urlStates: state.urls,
        health: Object.values(state.health).map((f) => ({
          code: f.code,
          url: f.url,
          subject: f.subject,
          firstSeen: f.firstSeen,
          lastSeen: f.lastSeen,
          resolvedAt: f.resolvedAt,
        })),
        recordedSweeps: state.sweeps.map((x) => x.sweep),
        healthEmails: (await services.ses.emails())
          .filter((e) => e.subject.startsWith('revwatch: CRL health'))
          .map((e) => ({ subject: e.subject, text: e.body.text ?? '' })),
      };
    } finally {
      client.destroy();
    }
  })();

  const result: ScenarioResult = {
    synthMs,
    timeline: harness.timeline,
    invocations: harness.invocations,
    emails,
    environment: harness.environmentMismatches(),
    policy: harness.policyViolations(),
    messages: harness.messageLimits(),
    functions: stack.functions.map((f) => ({
      name: f.logicalId,
      reservedConcurrency: f.reservedConcurrency,
      maxInFlight: harness.functions.get(f.logicalId)!.maxInFlight,
      timeoutSeconds: f.timeoutSeconds,
      bundle: f.assetDir,
    })),
    status,
    bundles,
    afterFirstRun,
    objects,
    caHits,
    logsOfFailures: [...harness.functions.values()].flatMap((f) => f.logs.filter((l) => /"level":"(ERROR|WARN)"|Error/.test(l))),
    faults,
    sweep: sweepResult,
    errors,
  };
  writeFileSync(out, JSON.stringify(result, null, 2));

  await harness.stop();
  caServer.close();
  await ca.dispose();
  await services.stop();
}

// Run as a script (by deployed.test.ts); imported for its constants and types, it does nothing.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
