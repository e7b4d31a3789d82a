import { defineConfig } from 'vitest/config';

/**
 * Six projects: `npm run test:unit` (the inner loop: in memory, no dynalite,
 * no openssl, no build) and the rest, which `npm test` runs with it. The
 * integration and functions tests spawn the built CLI (global-setup.ts builds
 * dist/ first) and start real servers; on a loaded 2-core machine one CLI
 * spawn can take several seconds. Every test and hook gets 120 s: a unit test
 * of 1.4 s in CI (good-answers.test.ts, ~490 in-memory checks) took over 30 s,
 * the old unit bound, on the shared 2-core machine at load 35.
 */
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      // The unit tests share a worker's module cache (isolate: false): re-importing the source tree for each
      // of ~70 files was half of their CPU (87 s isolated, 40 s shared, same machine and load). A file that
      // mocks a module (vi.mock) is named *.mocked.test.ts and runs in a fresh module cache of its own: in a
      // shared one the module may already be loaded, unmocked, by a file before it.
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: ['test/unit/**/*.mocked.test.ts'], isolate: false },
      },
      { extends: true, test: { name: 'unit-mocked', include: ['test/unit/**/*.mocked.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/conformance/**/*.test.ts', 'test/faults/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'functions', include: ['test/functions/**/*.test.ts'], globalSetup: ['test/global-setup.ts'] },
      },
      { extends: true, test: { name: 'infra', include: ['test/infra/**/*.test.ts'] } },
      // `npm run test:aws`: the synthesized stack run end to end on this machine (test/aws/deployed.test.ts).
      { extends: true, test: { name: 'aws', include: ['test/aws/**/*.test.ts'], globalSetup: ['test/global-setup.ts'] } },
    ],
  },
});
