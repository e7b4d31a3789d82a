/**
 * The import graph of revwatch's source, read from the text with the TypeScript
 * parser (comments and strings that look like imports are not imports). It is
 * the one place the layers are written down: test/unit/architecture.test.ts
 * judges the tree with `LAYERS` and `analyse`, scripts/gen-doc-tables.ts
 * draws the table in docs/architecture.md from `LAYERS`, and run as a script it
 * prints the counts issue #25 measures:
 *
 *   npx tsx scripts/import-graph.ts [ROOT] [--renames FILE]
 *
 * ROOT is a checkout (default: this one). FILE is `git diff -M --name-status OLD NEW`
 * output: an older tree's files are then judged by today's layers under the path
 * they were moved to (a file with no layer is listed, not guessed).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export interface Layer {
  readonly name: string;
  /** What lives there: the row of the table in docs/architecture.md. */
  readonly holds: string;
  /** Paths from the repository root: a folder ends in `/` and holds everything under it; anything else is one file. */
  readonly paths: readonly string[];
}

/**
 * Lowest first. A module may import from its own layer or any layer below it,
 * never from one above (type-only imports included: a type names a dependency
 * too). The vocabulary sits under pki so that a parse error or a time helper
 * never needs the certificate code; the ports sit under the store that
 * implements their logic; adapters and the composition roots sit above the
 * services they serve, so a service can only ever reach them through a port;
 * the CLI and the Lambda handlers are the tops that nothing imports.
 */
export const LAYERS: readonly Layer[] = [
  {
    name: 'vocabulary',
    holds: 'kinds, reasons and ids; InputError and the other shared errors; instants and durations',
    paths: ['src/domain.ts', 'src/errors.ts', 'src/time.ts', 'src/types/'],
  },
  { name: 'util', holds: 'mapLimit, retry, grouping, capped reads, terminal-safe text', paths: ['src/util/'] },
  {
    name: 'pki',
    holds: 'DER, X.509, CRL and OCSP parsing, signature verification; the CCADB report format and its CA certificates as issuers',
    paths: ['src/pki/', 'src/ccadb/csv.ts', 'src/ccadb/report.ts', 'src/ccadb/issuers.ts'],
  },
  {
    name: 'rules',
    holds: 'deadline rules (docs/rules.md), the evidence record, VERDICTS, FINDING_CHECKS, revocation sources',
    paths: ['src/rules/'],
  },
  {
    name: 'ports',
    holds: 'the interfaces the services are given: Clock, Fetcher, the store, mail, runs, evidence archive, good-answer log',
    paths: ['src/ports/'],
  },
  { name: 'store', holds: 'every table key (layout.ts), the polling index, the store logic over the Table port', paths: ['src/store/'] },
  {
    name: 'services',
    holds:
      'check (plan, jobs, execute, probe, poll, fan-out), status and verify-evidence, notices, reports, digest, site, CCADB disclosures, the CRL sweep and its revocation index',
    paths: [
      'src/check/',
      'src/status/',
      'src/notify/',
      'src/report/',
      'src/sweep/',
      'src/ccadb/match.ts',
      'src/ccadb/refresh.ts',
      'src/ccadb/store.ts',
    ],
  },
  {
    name: 'use cases',
    holds: 'track and its inputs, inspect, the CCADB import, the local test CA',
    paths: ['src/track/', 'src/inspect/', 'src/ccadb/import.ts', 'src/local-ca/'],
  },
  {
    name: 'adapters',
    holds:
      'aws/ (DynamoDB, S3, SQS, SES, EventBridge), local/ (embedded store, files, spool, lock), memory/, net/ (HTTP, OCSP, address guard), the clocks',
    paths: ['src/adapters/'],
  },
  {
    name: 'composition',
    holds: 'openRuntime: the adapters of local or AWS mode; the demo, which wires a local CA and a simulated clock',
    paths: ['src/runtime/', 'src/demo/'],
  },
  {
    name: 'entry points',
    holds: 'the CLI (main.ts, commands/) and the Lambda handlers',
    paths: ['src/cli/', 'functions/'],
  },
];

const inLayer = (file: string, layer: Layer): boolean => layer.paths.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p));

export interface Import {
  readonly from: string;
  readonly spec: string;
  /** The imported file relative to the root, or null for a package. */
  readonly to: string | null;
  /** `import type`, `export type`, or every named binding marked `type`: erased by the compiler. */
  readonly typeOnly: boolean;
  /** `import()`: loaded when first called, but a dependency all the same. */
  readonly lazy: boolean;
}

function resolveSpec(from: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return normalize(join(dirname(from), spec))
    .replace(/\\/g, '/')
    .replace(/\.js$/, '.ts');
}

function allTypeBindings(bindings: ts.NamedImportBindings | ts.NamedExportBindings | undefined): boolean {
  if (bindings === undefined || !(ts.isNamedImports(bindings) || ts.isNamedExports(bindings))) return false;
  return bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

/** Parsed files by path and text: judging a tree again with one file changed parses only that file. */
const parsed = new Map<string, { readonly text: string; readonly imports: Import[] }>();

/** Every import of one file: static imports, re-exports, side-effect imports, import() and import('…') types. */
export function importsOf(from: string, text: string): Import[] {
  const known = parsed.get(from);
  if (known?.text === text) return known.imports;
  const source = ts.createSourceFile(from, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const found: Import[] = [];
  const add = (spec: string, typeOnly: boolean, lazy: boolean) => found.push({ from, spec, to: resolveSpec(from, spec), typeOnly, lazy });
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly = clause !== undefined && (clause.isTypeOnly || (clause.name === undefined && allTypeBindings(clause.namedBindings)));
      add(node.moduleSpecifier.text, typeOnly, false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly || allTypeBindings(node.exportClause), false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true, false);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, false, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  parsed.set(from, { text, imports: found });
  return found;
}

/** The .ts files under the given folders of a tree, keyed by path from the root (analyse leaves the .d.ts shims out: they load nothing). */
export function readTree(root: string, folders: readonly string[] = ['src', 'functions']): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) files.set(relative(root, path).replace(/\\/g, '/'), readFileSync(path, 'utf8'));
    }
  };
  for (const folder of folders) if (existsSync(join(root, folder))) walk(join(root, folder));
  return files;
}

/**
 * Strongly connected components with more than one file, or one file that
 * imports itself (Tarjan's algorithm, iterative so a deep chain cannot
 * overflow the stack). Each cycle is sorted, and the list by its first file.
 */
export function cycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  for (const start of [...edges.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { node: string; i: number }[] = [{ node: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const targets = edges.get(top.node) ?? [];
      if (top.i < targets.length) {
        const t = targets[top.i++]!;
        if (!index.has(t)) {
          index.set(t, next);
          low.set(t, next++);
          stack.push(t);
          onStack.add(t);
          work.push({ node: t, i: 0 });
        } else if (onStack.has(t)) low.set(top.node, Math.min(low.get(top.node)!, index.get(t)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== top.node);
        if (component.length > 1 || targets.includes(top.node)) out.push(component.sort());
      }
    }
  }
  return out.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

export function layerOf(file: string, layers: readonly Layer[] = LAYERS): number {
  return layers.findIndex((l) => inLayer(file, l));
}

export interface Analysis {
  readonly files: readonly string[];
  readonly imports: readonly Import[];
  /** Files no layer matches. */
  readonly unlayered: readonly string[];
  /** Value-import cycles (import type excluded, import() included). */
  readonly cycles: readonly (readonly string[])[];
  /** Imports (of any kind) from a file to one in a higher layer, as `from -> to`. */
  readonly upward: readonly string[];
}

/**
 * Judges a tree given as path → text, so a test can plant a file that breaks a
 * rule without touching the disk. `rename` maps an older tree's path to the one
 * today's layers know it by.
 */
export function analyse(
  tree: ReadonlyMap<string, string>,
  layers: readonly Layer[] = LAYERS,
  rename: (path: string) => string = (p) => p,
): Analysis {
  const files = [...tree.keys()].filter((f) => !f.endsWith('.d.ts')).sort();
  const imports = files.flatMap((f) => importsOf(f, tree.get(f)!));
  const known = new Set(files);
  const edges = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const i of imports) if (!i.typeOnly && i.to !== null && known.has(i.to)) edges.get(i.from)!.push(i.to);
  const layered = (f: string) => layerOf(rename(f), layers);
  const unlayered = files.filter((f) => layered(f) < 0);
  const upward = imports
    .filter((i) => i.to !== null && known.has(i.to) && layered(i.from) >= 0 && layered(i.to) > layered(i.from))
    .map((i) => `${i.from} (${layers[layered(i.from)]!.name}) -> ${i.to} (${layers[layered(i.to!)]!.name})`);
  return { files, imports, unlayered, cycles: cycles(edges), upward: [...new Set(upward)] };
}

/** Files, folders and lines under src/ of a checkout. */
export function srcSize(root: string): { files: number; folders: number; lines: number } {
  let files = 0;
  let folders = 0;
  let lines = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) {
        folders++;
        walk(path);
      } else if (statSync(path).isFile()) {
        files++;
        const text = readFileSync(path, 'utf8');
        lines += text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
      }
    }
  };
  walk(join(root, 'src'));
  return { files, folders, lines };
}

function renamesFrom(file: string): (path: string) => string {
  const map = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [status, from, to] = line.split('\t');
    if (status?.startsWith('R') && from && to) map.set(from, to);
  }
  return (p) => map.get(p) ?? p;
}

function main(argv: readonly string[]): void {
  const renamesAt = argv.indexOf('--renames');
  const rename = renamesAt >= 0 ? renamesFrom(argv[renamesAt + 1]!) : undefined;
  const root = argv.find((a, i) => !a.startsWith('--') && argv[i - 1] !== '--renames') ?? fileURLToPath(new URL('..', import.meta.url));
  const size = srcSize(root);
  const result = analyse(readTree(root), LAYERS, rename);
  const out = [
    `tree: ${root}`,
    `src/: ${size.folders} folders (src/ itself not counted), ${size.files} files, ${size.lines} lines`,
    `scanned: ${result.files.length} .ts files under src/ and functions/, ${result.imports.length} imports`,
    `value-import cycles: ${result.cycles.length}`,
    ...result.cycles.map((c) => `  ${c.length} files: ${c.join(' ')}`),
    `upward imports (by the layers in scripts/import-graph.ts${rename ? ', paths renamed' : ''}): ${result.upward.length}`,
    ...result.upward.map((u) => `  ${u}`),
    `files in no layer: ${result.unlayered.length}`,
    ...result.unlayered.map((f) => `  ${f}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
