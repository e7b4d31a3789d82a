/**
 * The layer table of docs/architecture.md and the finding list of
 * docs/evidence.md are generated (scripts/gen-doc-tables.ts) from what the code
 * enforces: `LAYERS`, which the architecture test judges the imports by, and
 * `FINDING_CHECKS`, the checks that run. A page that says otherwise fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FINDING_CHECKS } from '../../../src/rules/verdict.js';
import { LAYERS } from '../../../scripts/import-graph.js';
import { GENERATED_PARTS, readDoc, renderFindingList, renderLayerTable, withGenerated } from '../../../scripts/gen-doc-tables.js';

describe('generated doc tables', () => {
  for (const part of GENERATED_PARTS) {
    it(`docs/${part.doc}: the ${part.name} are current (else run \`npm run docs:tables\`)`, () => {
      const page = readDoc(part.doc);
      expect(page === withGenerated(page, part.name, part.render()), `docs/${part.doc} is stale: run \`npm run docs:tables\``).toBe(true);
    });
  }

  it('draws every layer with every path, and every finding code', () => {
    const layers = renderLayerTable();
    for (const l of LAYERS) for (const p of l.paths) expect(layers).toContain(`\`${p}\``);
    const findings = renderFindingList();
    for (const code of Object.keys(FINDING_CHECKS)) expect(findings).toContain(`- \`${code}\``);
    expect(findings).toContain(`${Object.keys(FINDING_CHECKS).length} checks`);
  });

  it('explains every finding the checks give in the table of docs/verdicts.md', () => {
    const verdicts = readFileSync(new URL('../../../docs/verdicts.md', import.meta.url), 'utf8');
    const missing = Object.keys(FINDING_CHECKS).filter((code) => !verdicts.includes(`| \`${code}\` |`));
    expect(missing).toEqual([]);
  });

  it('notices a stale page and a page without markers', () => {
    const page = readDoc('evidence.md');
    expect(withGenerated(page, 'findings', renderFindingList(['only_one']))).not.toBe(page);
    expect(withGenerated(page, 'findings', renderFindingList())).toBe(page);
    expect(() => withGenerated('# a page\n', 'findings', 'x')).toThrow(/no "findings" markers/);
  });
});
