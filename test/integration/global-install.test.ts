/**
 * Installing the command: what README tells a user to do after `npm ci` in a clone
 * (`npm install -g .`), and what a packed tarball holds (`files`, `bin`, and a `prepare` that
 * needs no dev-only tool where there are no sources to build). Each install goes into a
 * temporary prefix, and the installed `revwatch` runs from another folder, found on PATH.
 *
 * Offline on purpose: a folder install links the folder and resolves the dependencies from its
 * node_modules, so the tarball's unpacked copy is given the clone's node_modules (a symlink)
 * instead of fetching them from the registry. The clone itself is installed with
 * --ignore-scripts, so that its `prepare` does not rebuild the dist/ other tests are running.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const repo = resolve('.');
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const MINUTES = 60_000;

describe('revwatch installs as a command (npm install -g)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revwatch-install-'));
  const elsewhere = join(dir, 'elsewhere');
  /** npm without the registry, the user's cache or config: everything it needs is on disk. */
  const npmFlags = [
    '--offline',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--cache',
    join(dir, 'npm-cache'),
    '--userconfig',
    join(dir, 'npmrc'),
  ];

  const npm = (args: string[], cwd: string) => exec('npm', [...args, ...npmFlags], { cwd, encoding: 'utf8', timeout: 5 * MINUTES });

  /** Runs `revwatch` by name, found on PATH in the prefix's bin, from a folder outside the clone. */
  const revwatch = (prefix: string, args: string[]) =>
    exec('revwatch', args, {
      cwd: elsewhere,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${join(prefix, 'bin')}${delimiter}${process.env.PATH ?? ''}`, REVWATCH_HOME: join(dir, 'home') },
      timeout: 2 * MINUTES,
    });

  beforeAll(() => {
    mkdirSync(elsewhere);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'npm install -g <clone> gives a revwatch command that works from another folder',
    async () => {
      const prefix = join(dir, 'prefix-clone');
      await npm(['install', '-g', '--prefix', prefix, '--ignore-scripts', repo], dir);
      const { stdout: printed } = await revwatch(prefix, ['--version']);
      expect(printed.trim()).toBe(version);
      const { stdout } = await revwatch(prefix, [
        'deadline',
        '--reported-at',
        '2024-07-30T19:30:00Z',
        '--reason',
        'domain-validation',
        '--json',
      ]);
      expect(JSON.parse(stdout)).toMatchObject({ deadline: '2024-07-31T19:30:00Z', hours: 24, rule: { section: 'BR 4.9.1.1' } });
    },
    10 * MINUTES,
  );

  it(
    'the packed tarball holds what the command needs, and installs without building',
    async () => {
      const packed = join(dir, 'packed');
      mkdirSync(packed);
      // dist/ is built by the tests' global setup; --ignore-scripts keeps `npm pack` from building it again.
      const { stdout } = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', packed], repo);
      const [tarball] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
      const files = tarball!.files.map((f) => f.path);
      expect(files).toEqual(
        expect.arrayContaining(['bin/revwatch.js', 'dist/cli/main.js', 'package.json', 'scripts/prepare.mjs', 'docs/cli.md']),
      );
      expect(files.filter((f) => /^(src|test|infra|functions|bench|node_modules)\//.test(f))).toEqual([]);

      await exec('tar', ['xzf', join(packed, tarball!.filename), '-C', packed]);
      const unpacked = join(packed, 'package');
      symlinkSync(join(repo, 'node_modules'), join(unpacked, 'node_modules'), 'dir');
      const prefix = join(dir, 'prefix-tarball');
      // Scripts run here: `prepare` finds no sources to build and only checks that dist/ is present.
      await npm(['install', '-g', '--prefix', prefix, unpacked], dir);
      expect(existsSync(join(unpacked, 'src'))).toBe(false);

      const { stdout: printed } = await revwatch(prefix, ['--version']);
      expect(printed.trim()).toBe(version);
      const { stdout: text } = await revwatch(prefix, [
        'deadline',
        '--reported-at',
        '2024-07-30T19:30:00Z',
        '--reason',
        'domain-validation',
      ]);
      expect(text).toMatch(/^MUST deadline\s+2024-07-31T19:30:00Z/m);
    },
    10 * MINUTES,
  );

  it(
    'prepare says what is missing when there is neither dist/ nor a compiler to build it',
    async () => {
      const bare = join(dir, 'bare');
      mkdirSync(join(bare, 'scripts'), { recursive: true });
      await exec('cp', [join(repo, 'scripts', 'prepare.mjs'), join(bare, 'scripts')]);
      const failure = await exec(process.execPath, [join(bare, 'scripts', 'prepare.mjs')], { cwd: bare, encoding: 'utf8' }).then(
        () => undefined,
        (err: { code: number; stderr: string }) => err,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr.trim().split('\n')).toEqual(['revwatch: this package has neither dist/ nor the sources to build it']);
    },
    2 * MINUTES,
  );
});
