/** What `revwatch lookup` runs (src/cli/commands/lookup.ts declares its options): serials looked up in the sweep's revocation index. */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { RevocationIndexReader } from '../adapters/local/revocation-index-reader.js';
import { SweepStateFile } from '../adapters/local/sweep-state-file.js';
import { InputError } from '../errors.js';
import { readCertificates } from '../pki/certificate.js';
import { normalizeSerialHex } from '../pki/crl.js';
import type { SweepState } from '../ports/revocation-index.js';
import { formatLookup, issuerKeyBySha256, issuerKeysByKeyId, prepareLookup, type LookupIndex, type LookupQuery } from '../sweep/lookup.js';
import type { LookupCliOptions } from './commands/lookup.js';
import { readInput, type CliContext } from './context.js';
import { oneLine } from './validate.js';

const NORMAL_SERIAL = /^[0-9a-f]+$/;

export async function lookup(ctx: CliContext, inputs: string[], opts: LookupCliOptions): Promise<void> {
  const { runtimeMode } = await import('../runtime/runtime.js');
  if (runtimeMode(ctx.globals().aws === true, ctx.io.env) === 'aws') {
    // AWS: the index and sweep state the deployed sweep's workers keep in the table.
    await ctx.withRuntime(async ({ sweepState, revocationIndex }) => {
      if (!sweepState || !revocationIndex) throw new Error('the AWS runtime opened without the sweep state or the revocation index');
      await answer(ctx, inputs, opts, await sweepState.load(), revocationIndex);
    });
    return;
  }
  // Local: the files under <home>/sweep/, read without opening the embedded store.
  await answer(ctx, inputs, opts, await new SweepStateFile(ctx.home()).load(), new RevocationIndexReader(ctx.home()));
}

async function answer(ctx: CliContext, inputs: string[], opts: LookupCliOptions, state: SweepState, index: LookupIndex): Promise<void> {
  let issuerKeys: string[] | null = null;
  if (opts.issuer) {
    if (/^[0-9a-fA-F:]{64,95}$/.test(opts.issuer) && !existsSync(opts.issuer)) {
      const key = issuerKeyBySha256(state, opts.issuer.replace(/:/g, ''));
      if (!key) throw new InputError(`--issuer ${oneLine(opts.issuer)}: no swept CA certificate has this SHA-256`);
      issuerKeys = [key];
    } else {
      const [ca] = readCertificates(await readInput(opts.issuer, '--issuer'), opts.issuer);
      issuerKeys = [createHash('sha256').update(ca!.raw.spki).digest('hex')];
    }
  }

  const queries: LookupQuery[] = [];
  const serialOf = (text: string, where: string): string => {
    try {
      return normalizeSerialHex(text);
    } catch {
      throw new InputError(`${oneLine(where)}: "${oneLine(text.slice(0, 80))}" is neither a file nor a hexadecimal serial number`);
    }
  };
  for (const input of inputs) {
    if (!existsSync(input) || !statSync(input).isFile()) {
      queries.push({ input, serial: serialOf(input, input), issuerKeys });
      continue;
    }
    const bytes = await readInput(input, input, 64 * 1024 * 1024);
    const text = bytes.subarray(0, 4096).toString('latin1');
    if (bytes[0] === 0x30 || text.includes('-----BEGIN')) {
      for (const cert of readCertificates(bytes, input)) {
        const byAki = cert.authorityKeyId ? issuerKeysByKeyId(state, cert.authorityKeyId) : [];
        queries.push({ input, serial: cert.serial, issuerKeys: issuerKeys ?? (byAki.length > 0 ? byAki : null) });
      }
      continue;
    }
    const lines = bytes.toString('latin1').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      // A line already in the normal form (lowercase hex, even length, no leading zero byte) is its own serial:
      // a list of 100,000 spends no regular expressions on them.
      if (NORMAL_SERIAL.test(line) && line.length % 2 === 0 && !line.startsWith('00')) {
        queries.push({ input: line, serial: line, issuerKeys });
        continue;
      }
      const trimmed = line.trim();
      if (trimmed !== '') queries.push({ input: trimmed, serial: serialOf(line, `${input} line ${i + 1}`), issuerKeys });
    }
  }
  const lookedUp = await prepareLookup(index, state, queries);
  if (ctx.globals().json) {
    // One document, streamed: written as it is made, a few hundred answers to a write, and a pipe whose reader
    // lags is waited for (100,000 answers are tens of megabytes; none of them is held once written).
    for (const chunk of lookedUp.jsonDocument(256 * 1024)) {
      ctx.io.stdout(chunk);
      await ctx.io.drain?.();
    }
  } else {
    const answers = [...lookedUp.answers()];
    ctx.print(answers, () => formatLookup(answers));
  }
}
