/**
 * One ENV table (src/runtime/env.ts): no other file in src/ or functions/
 * spells a variable's name as a string, so the CLI, the handlers and the
 * stack cannot read or set names that drift apart; and docs/cli.md lists
 * every variable the CLI reads.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CLI_ENV, ENV } from '../../../src/runtime/env.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const TABLE_FILE = 'src/runtime/env.ts';

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each line holding a string literal that starts with a variable's prefix: 'REVWATCH_…', "REVWATCH_…" or `REVWATCH_…`. */
function nameLiterals(source: string): string[] {
  return source.split('\n').filter((line) => /['"`]REVWATCH_/.test(line));
}

describe('the ENV table', () => {
  it('is the only place in src/ and functions/ that spells a REVWATCH_ name as a string', () => {
    const found = ['src', 'functions']
      .flatMap((dir) => tsFiles(join(ROOT, dir)))
      .map((file) => relative(ROOT, file))
      .filter((file) => file !== TABLE_FILE)
      .flatMap((file) => nameLiterals(readFileSync(join(ROOT, file), 'utf8')).map((line) => `${file}: ${line.trim()}`));
    expect(found).toEqual([]);
  });

  it('finds a planted literal, in any quote', () => {
    expect(nameLiterals("const t = env['REVWATCH_TABLE'];")).toHaveLength(1);
    expect(nameLiterals('read("REVWATCH_SENDER")')).toHaveLength(1);
    expect(nameLiterals('throw new Error(`REVWATCH_HOME is bad`)')).toHaveLength(1);
    expect(nameLiterals('/** REVWATCH_TABLE in a comment is prose, not a read */')).toEqual([]);
  });

  it('names each variable once', () => {
    const names = Object.values(ENV);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^REVWATCH_[A-Z_]+$/);
  });

  it('docs/cli.md lists every variable the CLI reads', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
    expect(CLI_ENV.filter((name) => !doc.includes(`\`${name}\``))).toEqual([]);
  });
});
