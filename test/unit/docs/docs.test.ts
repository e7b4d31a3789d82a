/**
 * The documentation stays true to the code: docs/cli.md names every command
 * and option the CLI's own help lists, and every relative link in README.md
 * and docs/ points at a file inside the repository.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../../../src/cli/main.js';
import { FakeClock } from '../../../src/adapters/system-clock.js';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');

async function help(...argv: string[]): Promise<string> {
  let stdout = '';
  const code = await run([...argv, '--help'], { stdout: (s) => (stdout += s), stderr: () => undefined, env: {}, clock: new FakeClock(0) });
  expect(code).toBe(0);
  return stdout;
}

/** The subcommands a help text lists under "Commands:" (without commander's own `help`). */
const commandsIn = (text: string): string[] =>
  [...(text.split(/^Commands:$/m)[1] ?? '').matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
const optionsIn = (text: string): string[] =>
  [...new Set([...text.matchAll(/(?:^|[\s,])(--[a-z][a-z-]*)/gm)].map((m) => m[1]!))].filter((o) => o !== '--help');

describe('docs/cli.md', () => {
  const page = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');

  it('documents every command and every option the help lists', async () => {
    const top = await help();
    const commands: string[][] = [];
    for (const c of commandsIn(top)) {
      const sub = commandsIn(await help(c));
      if (sub.length === 0) commands.push([c]);
      else for (const s of sub) commands.push([c, s]);
    }
    expect(commands.map((c) => c.join(' '))).toContain('inspect crl');
    /** The text of one `##`/`###` section of the page, up to the next heading of any level. */
    const section = (heading: string): string => page.split(/^#+ /m).find((part) => part.startsWith(`${heading}\n`)) ?? '';
    const mentions = (text: string, option: string): boolean => new RegExp(`${option}(?![a-z-])`).test(text);
    const missing: string[] = [];
    for (const o of optionsIn(top)) if (!mentions(section('Global options'), o)) missing.push(`global ${o}`);
    for (const c of commands) {
      const name = c.join(' ');
      const text = section(`\`${name}\``);
      if (text === '') missing.push(`command ${name}`);
      for (const o of optionsIn(await help(...c))) if (!mentions(text, o)) missing.push(`${name} ${o}`);
    }
    expect(missing).toEqual([]);
  });

  it('names the exit codes the CLI uses', () => {
    for (const code of [0, 1, 2, 3, 70]) expect(page).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });
});

describe('links in README.md and docs/', () => {
  const pages = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => join('docs', f)),
  ];

  it.each(pages)('%s links only to files in the repository', (page) => {
    const text = readFileSync(join(ROOT, page), 'utf8');
    const broken: string[] = [];
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target!)) continue; // an absolute URL
      const path = target!.split('#')[0]!;
      if (path === '') continue;
      const full = resolve(ROOT, dirname(page), path);
      if (relative(ROOT, full).startsWith('..') || !existsSync(full)) broken.push(target!);
    }
    expect(broken).toEqual([]);
  });
});
