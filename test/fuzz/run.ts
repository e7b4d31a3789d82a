/**
 * The long form of the revocation fuzzer (issue 23 §2):
 *
 *   npx tsx test/fuzz/run.ts [inputs=100000] [seed=1]
 *
 * Prints the input count, the mutations used and every input that escaped
 * or threw what it must not, with the index that reproduces it; exits 1
 * when there was one, 0 otherwise, and 0 with a note when the corpus is absent.
 */
import { CORPUS_DIR, fuzz, loadCorpus } from './revocation-fuzz.js';

const inputs = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? 1);
const samples = await loadCorpus();
if (!samples) {
  console.log(`fuzz: the corpus is absent (${CORPUS_DIR}); nothing run`);
  process.exit(0);
}
const started = Date.now();
console.log(
  `fuzz: ${samples.length} samples (${samples.filter((s) => s.kind === 'crl').length} CRLs, ${samples.filter((s) => s.kind === 'ocsp').length} OCSP responses), ${inputs} inputs, seed ${seed}`,
);
const report = await fuzz(samples, inputs, seed, (done) => console.log(`  ${done} inputs, ${Math.round((Date.now() - started) / 1000)} s`));
console.log(JSON.stringify({ inputs: report.inputs, byKind: report.byKind, failing: report.failing }, null, 1));
for (const e of report.examples)
  console.log(`input ${e.index} (${e.sample}, ${e.mutation}): ${e.faults.map((f) => `${f.where}: ${f.error}`).join('; ')}`);
console.log(
  `fuzz: ${report.inputs} inputs, ${report.failing} with an escaped or wrong-class exception, ${Math.round((Date.now() - started) / 1000)} s`,
);
process.exit(report.failing === 0 ? 0 : 1);
