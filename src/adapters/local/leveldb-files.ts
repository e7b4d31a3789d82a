/**
 * Reading LevelDB's own files to check them, because LevelDB does not: classic-level opens its databases without
 * paranoid_checks and reads without verify_checksums (neither is an option it passes through), so a damaged byte
 * in a table file is served as data, or makes a read fail half-way, long after the store was opened. Here the
 * live table files (the ones the MANIFEST names) are checked block by block against the CRC-32C LevelDB wrote
 * after each block, before LevelDB opens the store.
 *
 * The formats are LevelDB's (doc/table_format.md, doc/log_format.md, db/version_edit.cc). Every fault is thrown
 * as a LevelDbDamage naming the file and what is wrong.
 */
import { readFileSync } from 'node:fs';
import { crc32c, maskCrc32c } from '../../util/crc32c.js';

export class LevelDbDamage extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'LevelDbDamage';
  }
}

/** A live table file as the MANIFEST records it. */
export interface LiveTable {
  readonly number: number;
  readonly size: number;
}

/**
 * The table files the store's current version holds: CURRENT names the MANIFEST, a log of version edits, and the
 * live files are those added and not deleted since. A table file in the directory that is not live (an unfinished
 * compaction output, left by a crash) is not the store's data: LevelDB deletes it at opening.
 */
export function liveTables(dir: string): LiveTable[] {
  const current = readFileSync(`${dir}/CURRENT`, 'latin1');
  const manifest = /^(MANIFEST-\d+)\n$/.exec(current)?.[1];
  if (manifest === undefined) throw new LevelDbDamage('CURRENT', 'does not name a MANIFEST');
  let bytes: Buffer;
  try {
    bytes = readFileSync(`${dir}/${manifest}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LevelDbDamage(manifest, 'is missing (CURRENT names it)');
    throw err;
  }
  const live = new Map<string, LiveTable>();
  for (const record of logRecords(bytes, manifest)) {
    for (const edit of versionEdit(record, manifest)) {
      if (edit.kind === 'new') live.set(`${edit.level}:${edit.number}`, { number: edit.number, size: edit.size });
      else live.delete(`${edit.level}:${edit.number}`);
    }
  }
  return [...live.values()];
}

/** The name LevelDB gives table number `n` (util/filename.cc: six digits at least); older stores used .sst. */
export const tableFileNames = (n: number): [string, string] => {
  const base = String(n).padStart(6, '0');
  return [`${base}.ldb`, `${base}.sst`];
};

const LOG_BLOCK_BYTES = 32768;
const LOG_HEADER_BYTES = 7;
/** A log fragment's type (db/log_format.h). */
const RecordType = { Zero: 0, Full: 1, First: 2, Middle: 3, Last: 4 } as const;

/**
 * The records of a LevelDB log (the MANIFEST is one): 32 KiB blocks of fragments, each with a 7-byte header
 * (masked CRC-32C of type and payload, length, type). LevelDB's reader checks every CRC when it reads the MANIFEST
 * (VersionSet::Recover), and so does this. A last record cut short by a crash while it was written is not part of
 * the log (LevelDB's reader ends there too).
 */
function logRecords(bytes: Buffer, name: string): Buffer[] {
  const records: Buffer[] = [];
  let pending: Buffer[] | null = null;
  let at = 0;
  while (at < bytes.length) {
    const leftInBlock = LOG_BLOCK_BYTES - (at % LOG_BLOCK_BYTES);
    if (leftInBlock < LOG_HEADER_BYTES) {
      at += leftInBlock; // the block's trailer: zeros
      continue;
    }
    if (at + LOG_HEADER_BYTES > bytes.length) break;
    const length = bytes.readUInt16LE(at + 4);
    const type = bytes[at + 6]!;
    const end = at + LOG_HEADER_BYTES + length;
    if (end > bytes.length) break;
    if (length + LOG_HEADER_BYTES > leftInBlock) throw new LevelDbDamage(name, `a record at offset ${at} runs past its block`);
    if (type === RecordType.Zero && length === 0) {
      at = end; // preallocated space (LevelDB's kZeroType)
      continue;
    }
    const stored = bytes.readUInt32LE(at);
    if (maskCrc32c(crc32c(bytes.subarray(at + 6, end))) !== stored)
      throw new LevelDbDamage(name, `the record at offset ${at} fails its checksum`);
    const payload = bytes.subarray(at + LOG_HEADER_BYTES, end);
    if (type === RecordType.Full && pending === null) records.push(payload);
    else if (type === RecordType.First && pending === null) pending = [payload];
    else if (type === RecordType.Middle && pending !== null) pending.push(payload);
    else if (type === RecordType.Last && pending !== null) {
      records.push(Buffer.concat([...pending, payload]));
      pending = null;
    } else throw new LevelDbDamage(name, `a record of type ${type} at offset ${at} is out of place`);
    at = end;
  }
  return records;
}

type FileEdit = { kind: 'new'; level: number; number: number; size: number } | { kind: 'deleted'; level: number; number: number };

/** The file additions and deletions of one VersionEdit record (db/version_edit.cc, DecodeFrom); the rest is skipped. */
function versionEdit(record: Buffer, name: string): FileEdit[] {
  const reader = new ByteReader(record, name);
  const edits: FileEdit[] = [];
  while (!reader.done()) {
    const tag = reader.varint();
    switch (tag) {
      case 1: // comparator name
        reader.lengthPrefixed();
        break;
      case 2: // log number
      case 3: // next file number
      case 4: // last sequence
      case 9: // previous log number
        reader.varint();
        break;
      case 5: // compaction pointer: level, internal key
        reader.varint();
        reader.lengthPrefixed();
        break;
      case 6:
        edits.push({ kind: 'deleted', level: reader.varint(), number: reader.varint() });
        break;
      case 7: {
        const level = reader.varint();
        const number = reader.varint();
        const size = reader.varint();
        reader.lengthPrefixed(); // smallest key
        reader.lengthPrefixed(); // largest key
        edits.push({ kind: 'new', level, number, size });
        break;
      }
      default:
        throw new LevelDbDamage(name, `a version edit holds the unknown tag ${tag}`);
    }
  }
  return edits;
}

/** Varints and length-prefixed slices, as LevelDB's util/coding.cc writes them; a read past the end is damage. */
class ByteReader {
  private at = 0;
  constructor(
    private readonly bytes: Buffer,
    private readonly name: string,
    private readonly end = bytes.length,
  ) {}
  done(): boolean {
    return this.at >= this.end;
  }
  /** A varint up to 64 bits; exact below 2^53, which file numbers, sizes and offsets are. */
  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (this.at >= this.end) throw new LevelDbDamage(this.name, 'a number runs past its record');
      const b = this.bytes[this.at++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new LevelDbDamage(this.name, 'a number is longer than 64 bits');
  }
  lengthPrefixed(): Buffer {
    const length = this.varint();
    if (this.at + length > this.end) throw new LevelDbDamage(this.name, 'a field runs past its record');
    const slice = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return slice;
  }
  position(): number {
    return this.at;
  }
  skip(n: number): void {
    if (this.at + n > this.end) throw new LevelDbDamage(this.name, 'a value runs past its block');
    this.at += n;
  }
}

/** The last 8 bytes of every table file (kTableMagicNumber 0xdb4775248b80fb57, little-endian: table/format.h). */
const TABLE_MAGIC = Buffer.from('57fb808b247547db', 'hex');
/** Two block handles (varints) padded to 40 bytes, then the magic number. */
const TABLE_FOOTER_BYTES = 48;
/** After each block: its compression type (1 byte) and the masked CRC-32C of its contents and that byte. */
const BLOCK_TRAILER_BYTES = 5;
const NO_COMPRESSION = 0;
const SNAPPY_COMPRESSION = 1;

interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

/**
 * Checks every block of a table file (`bytes`, named `name`): the footer's magic number, then the metaindex and
 * index blocks it points to, every data block the index lists and every meta block (the filter) the metaindex
 * lists, each against its CRC-32C. The blocks must also tile the file, one after another from offset 0 to the
 * footer, so that no byte of it escapes a checksum: a damaged handle cannot point the check past damaged bytes.
 */
export function checkTable(bytes: Buffer, name: string): { blocks: number; compressed: number } {
  if (bytes.length < TABLE_FOOTER_BYTES || !bytes.subarray(bytes.length - TABLE_MAGIC.length).equals(TABLE_MAGIC)) {
    throw new LevelDbDamage(name, 'is truncated or not a table (no footer)');
  }
  const footer = new ByteReader(bytes, name, bytes.length - TABLE_MAGIC.length);
  footer.skip(bytes.length - TABLE_FOOTER_BYTES);
  const metaindex = readHandle(footer);
  const index = readHandle(footer);
  const handles: BlockHandle[] = [metaindex, index];
  for (const handle of [index, metaindex]) {
    for (const listed of blockValues(blockContents(bytes, handle, name), name)) handles.push(readHandle(new ByteReader(listed, name)));
  }
  let compressed = 0;
  handles.sort((a, b) => a.offset - b.offset);
  let expected = 0;
  for (const handle of handles) {
    if (handle.offset !== expected) throw new LevelDbDamage(name, `its blocks do not follow each other at offset ${expected}`);
    checkBlock(bytes, handle, name);
    if (bytes[handle.offset + handle.size] !== NO_COMPRESSION) compressed++;
    expected = handle.offset + handle.size + BLOCK_TRAILER_BYTES;
  }
  if (expected !== bytes.length - TABLE_FOOTER_BYTES)
    throw new LevelDbDamage(name, `its blocks end at offset ${expected}, not at its footer`);
  return { blocks: handles.length, compressed };
}

function readHandle(reader: ByteReader): BlockHandle {
  return { offset: reader.varint(), size: reader.varint() };
}

/** The block at `handle`, its CRC-32C checked; throws where it lies outside the file or its checksum fails. */
function checkBlock(bytes: Buffer, handle: BlockHandle, name: string): Buffer {
  const end = handle.offset + handle.size;
  if (end + BLOCK_TRAILER_BYTES > bytes.length - TABLE_FOOTER_BYTES)
    throw new LevelDbDamage(name, `a block at offset ${handle.offset} lies past the file's end`);
  const stored = bytes.readUInt32LE(end + 1);
  if (maskCrc32c(crc32c(bytes.subarray(handle.offset, end + 1))) !== stored) {
    throw new LevelDbDamage(name, `the block at offset ${handle.offset} (${handle.size} bytes) fails its checksum`);
  }
  return bytes.subarray(handle.offset, end);
}

/** A block's contents as LevelDB reads them: checked, and uncompressed when it was stored compressed. */
function blockContents(bytes: Buffer, handle: BlockHandle, name: string): Buffer {
  const stored = checkBlock(bytes, handle, name);
  const type = bytes[handle.offset + handle.size]!;
  if (type === NO_COMPRESSION) return stored;
  if (type === SNAPPY_COMPRESSION) return snappyUncompress(stored, name);
  throw new LevelDbDamage(name, `the block at offset ${handle.offset} has the unknown compression type ${type}`);
}

/**
 * The values of a block's entries (table/block.cc): each entry is three varints (key bytes shared with the
 * previous key, key bytes of its own, value bytes), its own key bytes and its value; then the restart offsets
 * (4 bytes each) and their count (4 bytes). Index and metaindex values are block handles.
 */
function blockValues(block: Buffer, name: string): Buffer[] {
  if (block.length < 4) throw new LevelDbDamage(name, 'a block is too short to hold its restart count');
  const restarts = block.readUInt32LE(block.length - 4);
  const entriesEnd = block.length - 4 - 4 * restarts;
  if (entriesEnd < 0) throw new LevelDbDamage(name, `a block's restart count (${restarts}) exceeds its size`);
  const reader = new ByteReader(block, name, entriesEnd);
  const values: Buffer[] = [];
  while (!reader.done()) {
    reader.varint(); // shared key bytes
    const own = reader.varint();
    const valueBytes = reader.varint();
    reader.skip(own);
    const at = reader.position();
    reader.skip(valueBytes);
    values.push(block.subarray(at, at + valueBytes));
  }
  return values;
}

/**
 * Snappy's block format (google/snappy format_description.txt), which LevelDB compresses blocks with: the
 * uncompressed length as a varint, then literals and back-references. Only index and metaindex blocks are
 * uncompressed here, to read their handles; data blocks are checked by their CRC as stored.
 */
export function snappyUncompress(input: Buffer, name: string): Buffer {
  const reader = new ByteReader(input, name);
  const length = reader.varint();
  // A block is at most a few kilobytes (block_size 4 KiB, plus one large entry): a huge length is damage.
  if (length > 64 * 1024 * 1024) throw new LevelDbDamage(name, `a compressed block claims ${length} bytes`);
  const out = Buffer.alloc(length);
  let written = 0;
  let at = reader.position();
  const fail = (what: string): never => {
    throw new LevelDbDamage(name, `a compressed block is damaged (${what})`);
  };
  while (at < input.length) {
    const tag = input[at++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let literal = tag >>> 2;
      if (literal >= 60) {
        const lengthBytes = literal - 59;
        if (at + lengthBytes > input.length) fail('a literal length runs past the end');
        literal = input.readUIntLE(at, lengthBytes);
        at += lengthBytes;
      }
      literal += 1;
      if (at + literal > input.length || written + literal > length) fail('a literal runs past the end');
      input.copy(out, written, at, at + literal);
      at += literal;
      written += literal;
      continue;
    }
    let copy: number;
    let offset: number;
    if (kind === 1) {
      if (at + 1 > input.length) fail('a copy runs past the end');
      copy = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[at]!;
      at += 1;
    } else if (kind === 2) {
      if (at + 2 > input.length) fail('a copy runs past the end');
      copy = (tag >>> 2) + 1;
      offset = input.readUInt16LE(at);
      at += 2;
    } else {
      if (at + 4 > input.length) fail('a copy runs past the end');
      copy = (tag >>> 2) + 1;
      offset = input.readUInt32LE(at);
      at += 4;
    }
    if (offset === 0 || offset > written || written + copy > length) fail('a copy reaches outside the output');
    // Byte by byte: a copy may overlap what it writes (offset < copy repeats a pattern).
    for (let i = 0; i < copy; i++, written++) out[written] = out[written - offset]!;
  }
  if (written !== length) fail(`${written} bytes where ${length} were announced`);
  return out;
}
