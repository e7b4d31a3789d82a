/**
 * The layering of src/ (described at the top of src/ports.ts): every import
 * points down or sideways, never up; services import ports, never an adapter
 * or an SDK; each command file of the CLI stays small. Read from the source
 * text, so a new file is covered without being listed.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

/** Lowest first. A module may import from its own layer or any below it. */
const LAYERS: readonly { readonly name: string; readonly match: RegExp }[] = [
  {
    name: 'foundation (domain, errors, time, util, pki, revocation sources, the CCADB report format)',
    match: /^(domain|errors|time|revocation-sources)\.ts$|^(util|pki|types)\/|^ccadb\/(csv|report)\.ts$/,
  },
  { name: 'rules', match: /^rules\// },
  { name: 'ports', match: /^ports(\.ts$|\/)/ },
  { name: 'store layout, net, clock', match: /^clock\.ts$|^(store|net)\// },
  { name: 'services (check, notify, report, CCADB disclosures)', match: /^(check|notify|report|ccadb)\// },
  {
    name: 'use cases (inspect, CLI inputs, demo, local CA)',
    match: /^(inspect|cli-inputs|cli-validate|cli-sources|cli-ccadb|crtsh-json|demo)\.ts$|^local-ca\//,
  },
  { name: 'adapters', match: /^adapters\// },
  { name: 'runtime', match: /^runtime\// },
  { name: 'cli', match: /^cli(\.ts$|\/)/ },
];

/** Packages that only adapters (and the runtime that opens them) may import. */
const ADAPTER_PACKAGES = /^(@aws-sdk\/|dynalite$|nodemailer$|proper-lockfile$)/;
const SERVICES = /^(store|check|notify|report|rules|ccadb)\//;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [relative(SRC, path)] : [];
  });
}

/** Every module specifier a file names: static imports, re-exports, side-effect imports and import(). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/\b(?:from|import)\s*\(?\s*'([^']+)'/g)) found.push(m[1]!);
  return found;
}

function layerOf(file: string): number {
  const i = LAYERS.findIndex((l) => l.match.test(file));
  if (i < 0) throw new Error(`src/${file} belongs to no layer: add it to LAYERS in test/unit/architecture.test.ts`);
  return i;
}

const files = sourceFiles(SRC);
const imports = files.flatMap((file) =>
  specifiers(readFileSync(join(SRC, file), 'utf8')).map((spec) => ({
    file,
    spec,
    target: spec.startsWith('.') ? normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts') : null,
  })),
);

describe('architecture', () => {
  it('reads the imports it judges (the scan is not vacuous)', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(imports.some((i) => i.file === 'adapters/aws/dynamo-table.ts' && i.spec.startsWith('@aws-sdk/'))).toBe(true);
    expect(imports.some((i) => i.file === 'cli.ts' && i.target === 'cli/context.ts')).toBe(true);
  });

  it('has every source file in a layer', () => {
    for (const file of files) expect(() => layerOf(file)).not.toThrow();
  });

  it('has no import from a lower layer to a higher one', () => {
    const upward = imports
      .filter((i) => i.target !== null && layerOf(i.target) > layerOf(i.file))
      .map((i) => `src/${i.file} (${LAYERS[layerOf(i.file)]!.name}) imports src/${i.target} (${LAYERS[layerOf(i.target!)]!.name})`);
    expect(upward).toEqual([]);
  });

  it('keeps adapters and SDKs out of the services: they import ports only', () => {
    const wrong = imports
      .filter(
        (i) => SERVICES.test(i.file) && ((i.target !== null && /^(adapters|runtime)\//.test(i.target)) || ADAPTER_PACKAGES.test(i.spec)),
      )
      .map((i) => `src/${i.file} imports ${i.spec}`);
    expect(wrong).toEqual([]);
  });

  it('keeps SDK, dynalite and mail packages inside adapters and the runtime', () => {
    const wrong = imports
      .filter((i) => ADAPTER_PACKAGES.test(i.spec) && !/^(adapters|runtime)\//.test(i.file))
      .map((i) => `src/${i.file} imports ${i.spec}`);
    expect(wrong).toEqual([]);
  });

  it('keeps each command file of the CLI under 120 lines', () => {
    const long = files
      .filter((f) => f.startsWith('cli/'))
      .map((f) => ({ f, lines: readFileSync(join(SRC, f), 'utf8').split('\n').length }))
      .filter((x) => x.lines > 120);
    expect(long).toEqual([]);
  });

  it('would notice an upward arrow (the check itself)', () => {
    // store/layout.ts is below the services: were it to import one, the rule above must see it.
    expect(layerOf('check/fan-out.ts')).toBeGreaterThan(layerOf('store/layout.ts'));
    expect(layerOf('adapters/aws/dynamo-table.ts')).toBeGreaterThan(layerOf('check/run-check.ts'));
  });
});
