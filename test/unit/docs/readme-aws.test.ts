/**
 * README's "Running it in AWS" table lists exactly the context keys the stack reads: the keys are taken
 * from infra/config.ts by asking it (every key it reads is asked for, set or not), and infra/ reads
 * context nowhere else. docs/operations.md exists and README links it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readStackConfig } from '../../../infra/config.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The keys in the first column of the context table (a row may name two: `memory` / `workerMemory`). */
function readmeContextKeys(): string[] {
  const section = readme.split(/^## Running it in AWS$/m)[1]!.split(/^## /m)[0]!;
  const table = section.split(/^\| key \| default \| what it sets \|$/m)[1]!.split(/\n\n/)[0]!;
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) => [...line.split('|')[1]!.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!));
}

describe('README: the AWS context keys', () => {
  it('lists every context key infra/ reads, and no other', () => {
    const asked = new Set<string>();
    readStackConfig((key) => {
      asked.add(key);
      return key === 'sender' ? 'revwatch@ca.example' : undefined;
    });
    expect(asked.size).toBeGreaterThan(10);
    expect(new Set(readmeContextKeys())).toEqual(asked);
  });

  it('infra/ reads context only through readStackConfig', () => {
    const reads = readdirSync(join(ROOT, 'infra'))
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) =>
        [...readFileSync(join(ROOT, 'infra', f), 'utf8').matchAll(/\b(tryGetContext|getContext)\s*\(/g)].map((m) => `${f}: ${m[1]}`),
      );
    expect(reads).toEqual(['app.ts: tryGetContext']);
    expect(readFileSync(join(ROOT, 'infra', 'app.ts'), 'utf8')).toContain('readStackConfig((key) => app.node.tryGetContext(key))');
  });

  it('links docs/operations.md, which has a section per alarm', () => {
    expect(readme).toContain('(docs/operations.md)');
    expect(existsSync(join(ROOT, 'docs', 'operations.md'))).toBe(true);
    const runbook = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
    const stack = readFileSync(join(ROOT, 'infra', 'revwatch-stack.ts'), 'utf8');
    // The alarms the stack creates; the errors alarm is one per function (`${name}ErrorsAlarm`).
    // biome-ignore lint/suspicious/noTemplateCurlyInString: '${name}' is the template placeholder as written in the stack's source
    const alarms = [...stack.matchAll(/new Alarm\(this, [`'](.+?)[`']/g)].map((m) => m[1]!.replace('${name}', '<function>'));
    expect(alarms).toEqual(['DeadLettersAlarm', '<function>ErrorsAlarm', 'NoSuccessfulCheckAlarm', 'CcadbDisclosureStaleAlarm']);
    for (const alarm of [
      'DeadLettersAlarm',
      'PlannerErrorsAlarm',
      'WorkerErrorsAlarm',
      'NotifierErrorsAlarm',
      'DigestErrorsAlarm',
      'SweeperErrorsAlarm',
      'NoSuccessfulCheckAlarm',
      'CcadbDisclosureStaleAlarm',
    ])
      expect(runbook).toContain(`\`${alarm}\``);
  });
});
