/**
 * `npm run bench -- functions`: each Lambda handler bundled as the stack
 * bundles it (infra/bundling.ts), its size, and the time a fresh Node.js
 * process takes to import it (a cold start's module load, without the
 * Lambda runtime's own start). Two peers are imported the same way in the
 * same run: an empty module (the floor), and a bundle of only the DynamoDB
 * client and document client, which every table-backed function pays.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { ESM_REQUIRE_BANNER, FUNCTION_HANDLERS, MAIN_FIELDS, MAX_BUNDLE_BYTES } from '../infra/bundling.js';

const RUNS = 15;

async function bundle(entry: string, outfile: string): Promise<{ bytes: number; metafile: Metafile }> {
  const r = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    // The stack targets node24 (the Lambda runtime); this machine runs Node.js 20.
    target: `node${process.versions.node.split('.')[0]}`,
    minify: true,
    mainFields: MAIN_FIELDS,
    banner: { js: ESM_REQUIRE_BANNER },
    metafile: true,
    logLevel: 'silent',
  });
  return { bytes: statSync(outfile).size, metafile: r.metafile };
}

/** Median milliseconds for a new process to import the module, measured inside it. */
function coldImportMs(file: string): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const t=performance.now();await import(${JSON.stringify(`file://${file}`)});console.log(performance.now()-t)`,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`importing ${file} failed: ${r.stderr}`);
    times.push(Number(r.stdout.trim().split('\n').pop()));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** The packages that weigh most in a bundle (minified bytes). */
function heaviest(metafile: Metafile, n: number): string {
  const byPackage = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
      const name = m ? m[1]! : path.startsWith('src/') ? 'revwatch src/' : path.startsWith('functions/') ? 'revwatch functions/' : 'other';
      byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...byPackage]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([p, b]) => `${p} ${(b / 1024).toFixed(0)} KB`)
    .join(', ');
}

export async function benchFunctions(): Promise<string[]> {
  const out = join(process.cwd(), 'bench-output', 'functions');
  mkdirSync(out, { recursive: true });
  const empty = join(out, 'empty.mjs');
  writeFileSync(empty, 'export {};\n');
  const peerEntry = join(out, 'dynamodb-peer.mjs');
  writeFileSync(
    peerEntry,
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';\nexport const c = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));\n",
  );
  const peer = await bundle(peerEntry, join(out, 'dynamodb-peer.bundle.mjs'));
  const floorMs = coldImportMs(empty);
  const peerMs = coldImportMs(join(out, 'dynamodb-peer.bundle.mjs'));
  const lines = [
    `Lambda bundles (esbuild, minified ESM) and cold import in a new node ${process.version} process (median of ${RUNS})`,
    `${'function'.padEnd(10)}${'bundle'.padStart(10)}${'import'.padStart(10)}${'vs DynamoDB-only'.padStart(18)}  heaviest parts`,
    `${'(empty)'.padEnd(10)}${'0 KB'.padStart(10)}${`${floorMs.toFixed(1)} ms`.padStart(10)}`,
    `${'(peer)'.padEnd(10)}${`${(peer.bytes / 1024).toFixed(0)} KB`.padStart(10)}${`${peerMs.toFixed(1)} ms`.padStart(10)}${'1.00x'.padStart(18)}  ${heaviest(peer.metafile, 2)}`,
  ];
  const verdicts: string[] = [];
  for (const name of FUNCTION_HANDLERS) {
    const file = join(out, `${name}.mjs`);
    const b = await bundle(join(process.cwd(), 'functions', `${name}.ts`), file);
    const ms = coldImportMs(file);
    lines.push(
      `${name.padEnd(10)}${`${(b.bytes / 1024).toFixed(0)} KB`.padStart(10)}${`${ms.toFixed(1)} ms`.padStart(10)}${`${(ms / peerMs).toFixed(2)}x`.padStart(18)}  ${heaviest(b.metafile, 3)}`,
    );
    verdicts.push(
      `${b.bytes < MAX_BUNDLE_BYTES ? 'PASS' : 'FAIL'} ${name} bundle ${(b.bytes / 1024 / 1024).toFixed(2)} MB (target < 2 MB); cold import ${ms.toFixed(1)} ms, ${(ms / peerMs).toFixed(2)}x the DynamoDB-only bundle`,
    );
  }
  return [...lines, '', ...verdicts];
}
