/**
 * @peculiar/x509 (with reflect-metadata and tsyringe), loaded on first use.
 * revwatch's own DER readers (raw-certificate.ts, certificate-fields.ts) are
 * the fast path; the library is only the fallback for what they do not
 * render (multi-valued RDNs, PKCS#7 bundles, odd extensions). Loading it
 * costs about 250 ms of start-up, which `inspect` and `deadline` should not pay
 * (bench/startup.ts).
 *
 * Synchronous on purpose: its callers are synchronous. The package has no
 * "exports" map, so `import` and `require` both resolve its CommonJS build:
 * this is the same module instance pki/x509.ts re-exports.
 */
import { createRequire } from 'node:module';

type X509 = typeof import('@peculiar/x509');
let loaded: X509 | null = null;

export function x509(): X509 {
  if (loaded) return loaded;
  // In a Lambda bundle esbuild inlines these direct require() calls; under plain
  // Node ESM (dist/, tests) there is no `require`, and createRequire reads node_modules.
  if (typeof require === 'function') {
    require('reflect-metadata');
    loaded = require('@peculiar/x509') as X509;
  } else {
    const load = createRequire(import.meta.url);
    load('reflect-metadata');
    loaded = load('@peculiar/x509') as X509;
  }
  return loaded;
}
