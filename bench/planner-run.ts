/**
 * The AWS planner on a bench home (bench/check.ts runs it in a child process and reads its peak RSS):
 * fan-out.ts planRun on the home's dynalite, the clock two days ahead so every tracked certificate is due,
 * and a queue that only counts. Prints the planner's result as JSON.
 */
import { FakeClock } from '../src/adapters/system-clock.js';
import { openEmbeddedStore } from '../src/adapters/local/embedded-store.js';
import { planRun } from '../src/check/fan-out.js';

const home = process.argv[2];
if (!home) throw new Error('usage: planner-run.ts <home> [days ahead, 2 by default]');
const daysAhead = Number(process.argv[3] ?? 2);
const open = await openEmbeddedStore(home);
try {
  let messages = 0;
  const r = await planRun({
    store: open.store,
    queue: {
      enqueue: async (m) => {
        messages += m.length;
      },
    },
    events: { checkCompleted: async () => undefined },
    clock: new FakeClock(Date.now() + daysAhead * 86_400_000),
  });
  process.stdout.write(
    `${JSON.stringify({
      certificates: r.certificates,
      crlJobs: r.crlJobs,
      ocspBatches: r.ocspBatches,
      ocspRequests: r.ocspRequests,
      payloadsInTable: r.payloadsInTable,
      messages,
      skipped: r.skipped,
    })}\n`,
  );
} finally {
  await open.close();
}
