/**
 * The AWS planner on a bench home (bench/check.ts runs it in a child process and reads its peak RSS):
 * fan-out.ts planRun on the home's dynalite, the clock two days ahead so every tracked certificate is due,
 * and a queue that keeps only the messages (a message of a big job is its ids). Prints the planner's result
 * as JSON, with the process's peak RSS when planning ended and the peak of its own memory (anonPeakMb).
 *
 * `--digest`: then reads every queued job back (payloads from the table, one at a time) and prints an
 * order-free digest of the jobs (test/helpers/planner-reference.ts). `--reference`: plans no run but builds
 * the jobs as the whole-run planner before issue 29 did, in memory, and prints their digest, to compare.
 */
import { readFileSync } from 'node:fs';
import { FakeClock } from '../src/adapters/system-clock.js';
import { openEmbeddedStore } from '../src/adapters/local/embedded-store.js';
import { planRun } from '../src/check/fan-out.js';
import type { JobMessage } from '../src/ports/index.js';
import { JobsDigest, type JobsSummary, messageJob, referenceJobs } from '../test/helpers/planner-reference.js';

const args = process.argv.slice(2);
const [home, days] = args.filter((a) => !a.startsWith('--'));
if (!home) throw new Error('usage: planner-run.ts <home> [days ahead, 2 by default] [--digest | --reference]');
const daysAhead = Number(days ?? 2);
const peakMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
/**
 * The peak of the process's own (anonymous) memory, sampled: the peak RSS also counts the pages of LevelDB's table
 * files that the embedded dynalite maps to read them (RssFile in /proc/self/status), which grow with the size of
 * the database read, not with what the planner holds, and which a planner against DynamoDB does not have. Null
 * where /proc is not there.
 */
const anonMb = (): number | null => {
  try {
    const line = /^RssAnon:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return line ? Math.round(Number(line[1]) / 1024) : null;
  } catch {
    return null;
  }
};
let anonPeakMb = anonMb();
const sampler = setInterval(() => {
  const now = anonMb();
  if (now !== null && (anonPeakMb === null || now > anonPeakMb)) anonPeakMb = now;
}, 20);
sampler.unref();
const clock = new FakeClock(Date.now() + daysAhead * 86_400_000);
const open = await openEmbeddedStore(home);
try {
  if (args.includes('--reference')) {
    const digest = new JobsDigest();
    for (const job of await referenceJobs(open.store, clock.now().getTime())) digest.add(job);
    process.stdout.write(`${JSON.stringify({ jobs: digest.summary(), peakMb: peakMb(), anonPeakMb })}\n`);
  } else {
    const messages: JobMessage[] = [];
    const r = await planRun({
      store: open.store,
      queue: {
        enqueue: async (m) => {
          for (const message of m) messages.push(message);
        },
      },
      events: { checkCompleted: async () => undefined },
      clock,
    });
    const planned = peakMb();
    const plannedAnon = anonPeakMb;
    let jobs: JobsSummary | null = null;
    if (args.includes('--digest')) {
      const digest = new JobsDigest();
      for (const m of messages) digest.add(await messageJob(open.store, m));
      jobs = digest.summary();
    }
    process.stdout.write(
      `${JSON.stringify({
        certificates: r.certificates,
        crlJobs: r.crlJobs,
        ocspBatches: r.ocspBatches,
        ocspRequests: r.ocspRequests,
        payloadsInTable: r.payloadsInTable,
        messages: messages.length,
        skipped: r.skipped,
        peakMb: planned,
        anonPeakMb: plannedAnon,
        ...(jobs ? { jobs } : {}),
      })}\n`,
    );
  }
} finally {
  await open.close();
}
