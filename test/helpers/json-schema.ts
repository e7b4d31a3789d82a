/**
 * Holds a --json output to its published schema in docs/schemas/ (every schema loaded once, so `$ref`s
 * between them resolve), the way a user's validator would read them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { expect } from 'vitest';

const SCHEMA_DIR = join(__dirname, '..', '..', 'docs', 'schemas');
let ajv: Ajv2020 | null = null;
function schemas(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({ strict: true, allErrors: true });
  for (const file of readdirSync(SCHEMA_DIR).filter((f) => f.endsWith('.schema.json')))
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as object);
  return ajv;
}

/** Asserts that `value` (as JSON would carry it) is valid against docs/schemas/<name>.schema.json. */
export function expectSchema(name: string, value: unknown): void {
  const validate = schemas().getSchema(`https://revwatch.example/schemas/${name}.schema.json`);
  if (!validate) throw new Error(`no schema ${name} in docs/schemas`);
  expect(validate(JSON.parse(JSON.stringify(value))), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
}

/** Parses a --json output and holds it to its schema. */
export function validJson<T>(name: string, text: string): T {
  const value = JSON.parse(text) as T;
  expectSchema(name, value);
  return value;
}
