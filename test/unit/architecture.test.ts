/**
 * The layering of src/ and functions/ (the table is `LAYERS` in
 * scripts/import-graph.ts, drawn in docs/architecture.md): every import points
 * down or sideways, never up; no value import closes a cycle; services import
 * ports, never an adapter or an SDK; each command file of the CLI stays small.
 * Read from the source text with the TypeScript parser, so a new file is
 * covered without being listed. The checker is also run on planted trees, so a
 * rule that stopped seeing anything would fail here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyse, importsOf, LAYERS, layerOf, readTree } from '../../scripts/import-graph.js';

const ROOT = join(import.meta.dirname, '../..');

/** Packages that only adapters (and the runtime that opens them) may import. */
const ADAPTER_PACKAGES = /^(@aws-sdk\/|dynalite$|nodemailer$|proper-lockfile$)/;
const SERVICES = /^src\/(store|check|status|notify|report|sweep|rules|ccadb)\//;
/** Files the SDK rule does not bind: the adapters, the runtime that opens them, and the Lambda handlers. */
const MAY_IMPORT_SDKS = /^src\/(adapters|runtime)\/|^functions\//;

/**
 * A command file parses one command's options, calls one service and prints:
 * 120 lines is room for that and no more. The rest of src/cli/ is shared by
 * every command (main.ts: the program, its global options and the error to
 * exit code mapping of docs/cli.md; validate.ts: the option parsers; context,
 * progress, the AWS-unreachable message) and may be longer, but not unbounded.
 */
const COMMAND_FILE_LINES = 120;
const SHARED_CLI_FILE_LINES = 200;

const tree = readTree(ROOT);
const graph = analyse(tree);
const lines = (file: string): number => tree.get(file)!.split('\n').length;

/** A tree of files with the given imports, for planting a violation. */
function planted(files: Record<string, string[]>): Map<string, string> {
  return new Map(Object.entries(files).map(([f, lines_]) => [f, lines_.join('\n')]));
}

describe('architecture', () => {
  it('reads the imports it judges (the scan is not vacuous)', () => {
    expect(graph.files.filter((f) => f.startsWith('src/')).length).toBeGreaterThan(100);
    expect(graph.files).toContain('functions/worker.ts');
    expect(graph.imports.some((i) => i.from === 'src/adapters/aws/dynamo-table.ts' && i.spec.startsWith('@aws-sdk/'))).toBe(true);
    expect(graph.imports.some((i) => i.from === 'src/cli/main.ts' && i.to === 'src/cli/context.ts')).toBe(true);
    expect(graph.imports.some((i) => i.from.startsWith('functions/') && i.to?.startsWith('src/'))).toBe(true);
    for (const cli of ['src/cli/main.ts', 'src/cli/validate.ts', 'src/cli/context.ts']) expect(graph.files).toContain(cli);
  });

  it('has every source file, src/cli/** and functions/ included, in a layer', () => {
    expect(graph.unlayered).toEqual([]);
    const top = LAYERS.length - 1;
    for (const f of graph.files.filter((x) => x.startsWith('src/cli/') || x.startsWith('functions/'))) expect(layerOf(f), f).toBe(top);
  });

  it('has no value-import cycle (import type excluded)', () => {
    expect(graph.cycles).toEqual([]);
  });

  it('has no import from a lower layer to a higher one', () => {
    expect(graph.upward).toEqual([]);
  });

  it('keeps the vocabulary below pki, the ports below the store, adapters and the runtime above the services', () => {
    const below = (a: string, b: string) => expect(layerOf(a), `${a} below ${b}`).toBeLessThan(layerOf(b));
    for (const vocabulary of ['src/time.ts', 'src/domain.ts', 'src/errors.ts']) below(vocabulary, 'src/pki/certificate.ts');
    below('src/ports/store.ts', 'src/store/layout.ts');
    for (const service of ['src/check/run-check.ts', 'src/status/status.ts', 'src/report/site.ts', 'src/ccadb/refresh.ts']) {
      below(service, 'src/adapters/aws/dynamo-table.ts');
      below(service, 'src/adapters/net/http-fetcher.ts');
      below(service, 'src/runtime/runtime.ts');
    }
    below('src/runtime/runtime.ts', 'src/cli/main.ts');
    expect(layerOf('functions/planner.ts')).toBe(layerOf('src/cli/main.ts'));
  });

  it('keeps adapters and SDKs out of the services: they import ports only', () => {
    const wrong = graph.imports
      .filter((i) => SERVICES.test(i.from) && ((i.to !== null && /^src\/(adapters|runtime)\//.test(i.to)) || ADAPTER_PACKAGES.test(i.spec)))
      .map((i) => `${i.from} imports ${i.spec}`);
    expect(wrong).toEqual([]);
  });

  it('keeps SDK, dynalite and mail packages inside adapters, the runtime and the handlers', () => {
    const wrong = graph.imports
      .filter((i) => ADAPTER_PACKAGES.test(i.spec) && !MAY_IMPORT_SDKS.test(i.from))
      .map((i) => `${i.from} imports ${i.spec}`);
    expect(wrong).toEqual([]);
  });

  it(`keeps each command file of the CLI within ${COMMAND_FILE_LINES} lines, and the rest of src/cli/ within ${SHARED_CLI_FILE_LINES}`, () => {
    const cli = graph.files.filter((f) => f.startsWith('src/cli/'));
    expect(cli.filter((f) => f.startsWith('src/cli/commands/')).length).toBeGreaterThan(5);
    const long = cli
      .map((f) => ({ f, lines: lines(f), limit: f.startsWith('src/cli/commands/') ? COMMAND_FILE_LINES : SHARED_CLI_FILE_LINES }))
      .filter((x) => x.lines > x.limit);
    expect(long).toEqual([]);
  });
});

describe('the checker itself', () => {
  it('sees a planted upward import, static or lazy, value or type', () => {
    for (const line of [
      "import { openRuntime } from '../runtime/runtime.js';",
      "const { openRuntime } = await import('../runtime/runtime.js');",
      "import type { Runtime } from '../runtime/runtime.js';",
      "export { openRuntime } from '../runtime/runtime.js';",
    ]) {
      const result = analyse(planted({ 'src/check/plan.ts': [line], 'src/runtime/runtime.ts': [] }));
      expect(result.upward, line).toEqual(['src/check/plan.ts (services) -> src/runtime/runtime.ts (composition)']);
    }
    const real = new Map(tree);
    real.set('src/time.ts', `import { InputError } from './pki/certificate.js';\n${tree.get('src/time.ts')}`);
    expect(analyse(real).upward).toEqual(['src/time.ts (vocabulary) -> src/pki/certificate.ts (pki)']);
  });

  it('sees a planted value cycle, and not one closed only by import type', () => {
    const cycle = planted({
      'src/report/formats.ts': ["export { toHtml } from './html.js';"],
      'src/report/html.ts': ["import { mdCell } from './formats.js';"],
      'src/report/site.ts': ["import { toHtml } from './html.js';"],
    });
    expect(analyse(cycle).cycles).toEqual([['src/report/formats.ts', 'src/report/html.ts']]);

    const typesOnly = planted({
      'src/report/formats.ts': ["import type { CaseReport } from './case-report.js';"],
      'src/report/case-report.ts': ["import { type Formatter, type Other } from './formats.js';"],
    });
    expect(analyse(typesOnly).cycles).toEqual([]);

    const longer = planted({
      'src/pki/certificate.ts': ["import { a } from './crl.js';"],
      'src/pki/crl.ts': ["import { b } from '../time.js';"],
      'src/time.ts': ["import { c } from './pki/certificate.js';"],
    });
    expect(analyse(longer).cycles).toEqual([['src/pki/certificate.ts', 'src/pki/crl.ts', 'src/time.ts']]);
  });

  it('reads imports as the compiler does, not as text', () => {
    const text = [
      "// import { x } from '../runtime/runtime.js';",
      'const s = "from \'../adapters/x.js\'";',
      'import {',
      '  a,',
      '  type B,',
      "} from './multi-line.js';",
      "import './side-effect.js';",
      "import { type C } from './types-only.js';",
    ].join('\n');
    expect(importsOf('src/check/x.ts', text).map((i) => [i.to, i.typeOnly])).toEqual([
      ['src/check/multi-line.ts', false],
      ['src/check/side-effect.ts', false],
      ['src/check/types-only.ts', true],
    ]);
  });

  it('puts a file no layer matches on the list', () => {
    expect(analyse(planted({ 'src/misc.ts': [] })).unlayered).toEqual(['src/misc.ts']);
  });

  it('reads the line counts it limits', () => {
    expect(lines('src/cli/main.ts')).toBe(readFileSync(join(ROOT, 'src/cli/main.ts'), 'utf8').split('\n').length);
  });
});
