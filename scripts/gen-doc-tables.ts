/**
 * Writes the parts of the docs that the code already says (`npm run docs:tables`):
 * the layer table of docs/architecture.md from `LAYERS` (scripts/import-graph.ts,
 * what test/unit/architecture.test.ts enforces) and the finding list of
 * docs/evidence.md from `FINDING_CHECKS` (src/rules/verdict.ts). Each sits
 * between two marker comments; the rest of the page is written by hand. A unit
 * test (test/unit/docs/doc-tables.test.ts) fails when a checked-in page differs
 * from what this renders.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FINDING_CHECKS } from '../src/rules/verdict.js';
import { LAYERS, type Layer } from './import-graph.js';

const docPath = (name: string): string => fileURLToPath(new URL(`../docs/${name}`, import.meta.url));

const cell = (value: string): string => value.replace(/\|/g, '\\|');

/** The layers, highest first, as the reader meets them from the entry points down. */
export function renderLayerTable(layers: readonly Layer[] = LAYERS): string {
  const rows = [...layers]
    .map((l, i) => ({ ...l, height: i + 1 }))
    .reverse()
    .map((l) => `| ${l.height} | ${l.name} | ${l.paths.map((p) => `\`${p}\``).join(', ')} | ${cell(l.holds)} |`);
  return ['| height | layer | paths | holds |', '|---|---|---|---|', ...rows].join('\n');
}

/** Every finding code, in the order the checks run. */
export function renderFindingList(codes: readonly string[] = Object.keys(FINDING_CHECKS)): string {
  return [
    `${codes.length} checks, one per finding code, in the order they run:`,
    '',
    ...codes.map((c) => `- \`${c}\``),
    '',
    'The severity of each, when it is given and the text it rests on are in',
    '[verdicts.md](verdicts.md#findings).',
  ].join('\n');
}

export interface GeneratedPart {
  readonly doc: string;
  readonly name: string;
  readonly render: () => string;
}

export const GENERATED_PARTS: readonly GeneratedPart[] = [
  { doc: 'architecture.md', name: 'layers', render: () => renderLayerTable() },
  { doc: 'evidence.md', name: 'findings', render: () => renderFindingList() },
];

const begin = (name: string): string =>
  `<!-- BEGIN GENERATED ${name}: by \`npm run docs:tables\` (scripts/gen-doc-tables.ts); a unit test fails when it is stale -->`;
const end = (name: string): string => `<!-- END GENERATED ${name} -->`;

/** The page with its generated part replaced; throws when the page lacks the markers. */
export function withGenerated(page: string, name: string, body: string): string {
  const from = page.indexOf(begin(name));
  const to = page.indexOf(end(name));
  if (from < 0 || to < from) throw new Error(`the page has no "${name}" markers: ${begin(name)} … ${end(name)}`);
  return `${page.slice(0, from)}${begin(name)}\n${body}\n${page.slice(to)}`;
}

export const readDoc = (doc: string): string => readFileSync(docPath(doc), 'utf8');

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const part of GENERATED_PARTS) {
    writeFileSync(docPath(part.doc), withGenerated(readDoc(part.doc), part.name, part.render()));
    process.stdout.write(`wrote the ${part.name} of docs/${part.doc}\n`);
  }
}
