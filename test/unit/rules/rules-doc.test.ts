/**
 * docs/rules.md is generated from the rule tables (scripts/gen-rules-doc.ts).
 * When a rule changes and the page was not regenerated, this fails and says
 * how to fix it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RULES_DOC_PATH, renderRulesDoc } from '../../../scripts/gen-rules-doc.js';
import { RULES } from '../../../src/rules/rules.js';
import { RULE_VERSIONS } from '../../../src/rules/rule-versions.js';

describe('docs/rules.md', () => {
  it('is what `npm run docs:rules` renders from the tables (run it after changing src/rules/)', () => {
    expect(readFileSync(RULES_DOC_PATH, 'utf8') === renderRulesDoc(), 'docs/rules.md is stale: run `npm run docs:rules`').toBe(true);
  });

  it('names every rule and rule version with its source', () => {
    const page = renderRulesDoc();
    for (const r of [...RULES, ...RULE_VERSIONS]) {
      expect(page).toContain(`\`${r.id}\``);
      expect(page).toContain(r.source);
    }
  });

  it('changes when a rule changes', () => {
    const before = renderRulesDoc();
    const rule = RULES[0] as { mustHours: number | null };
    const saved = rule.mustHours;
    rule.mustHours = 1;
    try {
      expect(renderRulesDoc()).not.toBe(before);
    } finally {
      rule.mustHours = saved;
    }
  });
});
