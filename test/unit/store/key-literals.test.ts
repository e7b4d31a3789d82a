/**
 * Every key of the single table is built in src/store/layout.ts: no other file under src/ or functions/
 * writes a key string of its own (a partition name such as 'CASES', or a prefix such as `CERT#…`), so the
 * DynamoDB table, the in-memory table and the CCADB disclosures cannot drift apart. The key words are read
 * from layout.ts itself, so a prefix added there is covered without being listed here.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const LAYOUT = 'src/store/layout.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The key words layout.ts writes as string literals: prefixes ending in '#', and partition names (four capitals or more). */
function keyWords(layout: string): { prefixes: string[]; partitions: string[] } {
  const prefixes = new Set([...layout.matchAll(/['"`]([A-Z]+)#/g)].map((m) => m[1]!));
  const partitions = new Set([...layout.matchAll(/(['"`])([A-Z]{4,})\1/g)].map((m) => m[2]!));
  return { prefixes: [...prefixes].sort(), partitions: [...partitions].sort() };
}

/** The lines of `text` holding a string literal that begins with a key prefix or is a partition name. */
function keyLiterals(text: string, words: { prefixes: readonly string[]; partitions: readonly string[] }): string[] {
  const prefix = new RegExp(`['"\`](${words.prefixes.join('|')})#`);
  const partition = new RegExp(`(['"\`])(${words.partitions.join('|')})\\1`);
  return text
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => prefix.test(line) || partition.test(line))
    .map(({ line, n }) => `${n}: ${line}`);
}

const words = keyWords(readFileSync(join(ROOT, LAYOUT), 'utf8'));

describe('table keys', () => {
  it('reads the key words from layout.ts (the scan is not vacuous)', () => {
    expect(words.prefixes).toEqual(expect.arrayContaining(['CASE', 'CERT', 'OBS', 'SNAP', 'RUN', 'NOTICE', 'POLL', 'JOB', 'CCADB']));
    expect(words.partitions).toEqual(expect.arrayContaining(['CASES', 'SOURCES', 'RUNS', 'CHANGED', 'OPENRUNS', 'DIGESTED']));
  });

  it('finds a key literal where one is written (the check itself)', () => {
    expect(keyLiterals("const key = { pk: 'CASES', sk: `CASE#` + id };", words)).toHaveLength(1);
    expect(keyLiterals('const sk = `CERT#` + sha256;', words)).toHaveLength(1);
    expect(keyLiterals('queryAll(table, { pk: "OPENRUNS" }, what);', words)).toHaveLength(1);
    expect(keyLiterals("const p = 'CCADB#CA';", words)).toHaveLength(1);
    expect(keyLiterals("argv: ['openssl', 'crl', '-inform', 'DER']", words)).toEqual([]);
  });

  it('has no key literal outside src/store/layout.ts', () => {
    const found = [...sourceFiles('src'), ...sourceFiles('functions')]
      .filter((file) => relative('.', file) !== LAYOUT)
      .flatMap((file) => keyLiterals(readFileSync(join(ROOT, file), 'utf8'), words).map((hit) => `${file}:${hit}`));
    expect(found).toEqual([]);
  });
});
