/**
 * A CertificateSpool on a temporary file: each certificate's packed JSON is
 * appended as it is read, and only its sort key, offset and lengths stay in
 * memory. `status` on a 100,000-certificate case then holds a few megabytes
 * of index instead of every certificate and record (~120 MB live, more than
 * twice that in heap). The file is unlinked as soon as it is open, so nothing
 * is left behind, whatever way the process ends.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaseCertificate, CertificateSpool } from '../../ports/store.js';
import { PackedCaseCertificate } from '../../store/layout.js';

/** Appends are gathered into writes of about this many bytes. */
const WRITE_CHUNK = 1 << 20;

export function fileSpool(directory: string = tmpdir()): CertificateSpool {
  const dir = mkdtempSync(join(directory, 'revwatch-spool-'));
  const path = join(dir, 'certificates');
  let fd: number | null = openSync(path, 'w+', 0o600);
  rmSync(dir, { recursive: true, force: true });

  const keys: string[] = [];
  // Per entry: offset in the file, then byte lengths of the certificate and the record.
  let offsets = new Float64Array(1024);
  let certBytes = new Uint32Array(1024);
  let recordBytes = new Uint32Array(1024);
  const revs: number[] = [];
  const pollDues: (number | null)[] = [];
  /** Certificates without packed JSON (stored before evidence records): kept as they are, they are few. */
  const kept = new Map<number, CaseCertificate>();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let fileBytes = 0;

  const flush = (): void => {
    if (pendingBytes === 0 || fd === null) return;
    const chunk = Buffer.concat(pending, pendingBytes);
    let written = 0;
    while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written, fileBytes + written);
    fileBytes += chunk.length;
    pending = [];
    pendingBytes = 0;
  };

  const grow = (n: number): void => {
    if (n < offsets.length) return;
    const size = offsets.length * 2;
    const o = new Float64Array(size);
    o.set(offsets);
    offsets = o;
    const c = new Uint32Array(size);
    c.set(certBytes);
    certBytes = c;
    const r = new Uint32Array(size);
    r.set(recordBytes);
    recordBytes = r;
  };

  return {
    add(key, cc) {
      const i = keys.length;
      keys.push(key);
      revs.push(cc.rev);
      pollDues.push(cc.pollDue);
      grow(i);
      if (!(cc instanceof PackedCaseCertificate)) {
        kept.set(i, cc);
        return;
      }
      const { cert, record } = cc.packed();
      const c = Buffer.from(cert, 'utf8');
      const r = Buffer.from(record, 'utf8');
      offsets[i] = fileBytes + pendingBytes;
      certBytes[i] = c.length;
      recordBytes[i] = r.length;
      pending.push(c, r);
      pendingBytes += c.length + r.length;
      if (pendingBytes >= WRITE_CHUNK) flush();
    },
    *inOrder() {
      flush();
      const order = Array.from(keys.keys()).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
      let buffer = Buffer.alloc(4096);
      for (const i of order) {
        const held = kept.get(i);
        if (held) {
          kept.delete(i);
          yield held;
          continue;
        }
        const length = certBytes[i]! + recordBytes[i]!;
        if (buffer.length < length) buffer = Buffer.alloc(Math.max(length, 2 * buffer.length));
        let read = 0;
        while (read < length) {
          const n = readSync(fd!, buffer, read, length - read, offsets[i]! + read);
          if (n === 0) throw new Error(`the status spool ended early (${read} of ${length} bytes of entry ${i})`);
          read += n;
        }
        const cert = buffer.toString('utf8', 0, certBytes[i]!);
        const record = buffer.toString('utf8', certBytes[i]!, length);
        yield new PackedCaseCertificate(cert, record, revs[i]!, pollDues[i]!);
      }
    },
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
