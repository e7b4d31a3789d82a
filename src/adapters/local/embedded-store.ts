/**
 * Local mode's store: the DynamoDB adapter talking to dynalite (DynamoDB on
 * LevelDB) started in this process on a loopback port, with its data in
 * <home>/db. LevelDB admits one process at a time, so commands take a lock on
 * the home directory first: a second `revwatch check` waits for the first
 * instead of failing, and neither loses nor duplicates anything.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, type Stats, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { openDynamoTable } from '../aws/dynamo-table.js';
import { TableStore } from '../../store/table-store.js';
import { InputError, isNoSpace, NoSpaceError, StoreUnavailableError } from '../../errors.js';
import { lockHome } from './home-lock.js';
import { migratePollIndex } from './poll-migration.js';
import { SystemClock } from '../system-clock.js';
import { checkTable, LevelDbDamage, liveTables, tableFileNames } from './leveldb-files.js';

export const LOCAL_TABLE = 'revwatch';

export interface OpenStore {
  readonly store: TableStore;
  /** The client the store talks through (tests of the table's layout use it). */
  readonly client?: DynamoDBClient;
  close(): Promise<void>;
}

export async function openEmbeddedStore(
  home: string,
  options: { lockWaitMs?: number; onLockWait?: (message: string) => void; onMigrated?: (message: string) => void } = {},
): Promise<OpenStore> {
  for (const dir of missingDirectories(join(home, 'db'))) makeStoreDirectory(dir);
  const release = await lockHome(home, { waitMs: options.lockWaitMs ?? 10 * 60_000, onLockWait: options.onLockWait });
  let server: DynaliteThread;
  try {
    const files = checkStoreFiles(join(home, 'db'), join(home, 'db-verified'));
    server = await startDynaliteThread(join(home, 'db'), files.createIfMissing);
  } catch (err) {
    await release();
    throw err;
  }
  const client = localDynamoClient(`127.0.0.1:${server.port}`, undefined, server.failure);
  const table = openDynamoTable(client, { tableName: LOCAL_TABLE });
  const store = new TableStore(table);
  const close = async (): Promise<void> => {
    client.destroy();
    try {
      await server.close();
    } finally {
      await release();
    }
  };
  try {
    await table.ensureTable();
    // A home made before the narrow polling index is moved to it once, with one line saying so.
    const migrated = await migratePollIndex(client, LOCAL_TABLE, new SystemClock());
    if (migrated) {
      (options.onMigrated ?? ((m) => process.stderr.write(`${m}\n`)))(migrated);
      await table.ensureTable();
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { store, client, close };
}

/**
 * The SDK client for the store on `endpoint` (host:port on loopback). Every request to the store has a deadline:
 * a loopback that is down or drops packets, or a store thread that stopped answering, ends the command with one
 * line (a StoreUnavailableError) instead of a silent hang. A request is one page (DynamoDB's 1 MB) or one batch,
 * so minutes of silence mean nothing will come.
 */
export function localDynamoClient(
  endpoint: string,
  deadlines: { connectMs: number; requestMs: number } = { connectMs: LOCAL_CONNECT_DEADLINE_MS, requestMs: LOCAL_REQUEST_DEADLINE_MS },
  storeFailure: () => Error | null = () => null,
): DynamoDBClient {
  const client = new DynamoDBClient({
    endpoint: `http://${endpoint}`,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 5,
    // requestTimeout only warns unless told to throw; socketTimeout is the same deadline for a silent socket.
    requestHandler: {
      connectionTimeout: deadlines.connectMs,
      requestTimeout: deadlines.requestMs,
      throwOnRequestTimeout: true,
      socketTimeout: deadlines.requestMs,
    },
  });
  client.middlewareStack.add(
    (next) => async (args) => {
      // A store whose thread met a failure it cannot go on from (a full disk) answers nothing more: every request
      // ends with that failure, at once, instead of after the SDK's retries.
      const failedBefore = storeFailure();
      if (failedBefore) throw failedBefore;
      try {
        return await next(args);
      } catch (err) {
        throw storeFailure() ?? unreachable(err, endpoint) ?? err;
      }
    },
    { step: 'initialize', name: 'revwatchLocalStoreUnreachable' },
  );
  return client;
}

/** Connecting to the store's own loopback port takes microseconds: 10 s without a connection means none will come. */
const LOCAL_CONNECT_DEADLINE_MS = 10_000;
/** The longest a request to the store may go without a byte of answer (the machine may be loaded, LevelDB busy). */
const LOCAL_REQUEST_DEADLINE_MS = 120_000;
/** How long the store's thread may take to load dynalite and listen. */
const START_DEADLINE_MS = 60_000;

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);

/** A failure to reach the store on its loopback port, as one line naming it; null for any other failure. */
function unreachable(err: unknown, endpoint: string): StoreUnavailableError | null {
  if (!(err instanceof Error)) return null;
  const code = (err as NodeJS.ErrnoException).code;
  if (err.name === 'TimeoutError') {
    return new StoreUnavailableError(`the embedded store on ${endpoint} did not answer in time: ${oneLine(err.message)}`, { cause: err });
  }
  if (code === undefined || !UNREACHABLE_CODES.has(code)) return null;
  const hint = code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL' ? ' (is the loopback interface up?)' : '';
  return new StoreUnavailableError(`the embedded store on ${endpoint} cannot be reached: ${oneLine(err.message)}${hint}`, { cause: err });
}

const oneLine = (s: string): string => s.replace(/\s+/g, ' ').trim();

/**
 * LevelDB's write buffer: writes collect in memory (and its log) up to this size before they are sorted into a
 * table file, and every such file is later merged into the levels below (compaction). A first check's writes are
 * scattered over the whole key range (observations by certificate hash, records across the case), so each small
 * file overlaps much of the level below and its merge rewrites that. With LevelDB's default of 4 MB, on the
 * bench's 101,000-certificate home, LevelDB's compaction thread used ~39 s of CPU in a 64 s check. With 64 MB it
 * used ~8 s, and the check took 44-51 s against 64-65 s (interleaved runs; 32 and 128 MB were no better). The
 * memory is LevelDB's own, outside the JS heap, and fills only with a command's writes (up to twice this while a
 * full buffer is being written out beside the next): closing the store writes the buffer out (below), so the next
 * command replays a log of that size only after a crash. An unchanged re-check after a first check then peaked at
 * ~550 MB, where replaying the first check's log took it to ~590 MB. Closing also waits for a compaction already
 * running, where it used to abandon it; the bench's timings (README) include that.
 */
const WRITE_BUFFER_BYTES = 64 * 1024 * 1024;

/**
 * The table files LevelDB keeps open (its table cache holds this many less ten; 74 is the least it accepts). LevelDB
 * maps each open table file into memory whole (on 64-bit, up to 1,000 of them), and every page a read or a compaction
 * touches counts in the process's resident memory until the file is closed. With LevelDB's default of 1,000 nothing
 * was ever closed: on the bench's 101,000-certificate first check the mapped table files were ~300 MB of its
 * 1.2-1.3 GB peak, and they grow with the store (a compaction reads every file it merges). Kept to 74, a file read
 * after the cache is full closes the least recently used one, and the mapped files stay at ~150 MB at that size.
 */
const MAX_OPEN_FILES = 74;

interface DynaliteThread {
  readonly port: number;
  /** What ended the store's service, if anything did (LevelDB failing a write: a full disk); null while it serves. */
  readonly failure: () => Error | null;
  close(): Promise<void>;
}

/**
 * dynalite (its request handling, LevelDB and JSON) runs on a worker thread
 * of this process: the command's own work and the store's then use both
 * cores, instead of taking turns on one event loop. Still one process, so the
 * home's lock covers it. The worker's code is a string run as CommonJS, given
 * the resolved path of dynalite, so it works the same from dist/ and from the
 * TypeScript sources under test.
 */
function startDynaliteThread(path: string, createIfMissing: boolean): Promise<DynaliteThread> {
  const dynalitePath = createRequire(import.meta.url).resolve('dynalite');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { dirname } = require('node:path');
    // LevelDB's background thread (the one that writes buffers out and compacts) is started by its library the
    // first time it is needed and lives as long as the process; Node unloads (dlclose) an addon a worker loaded
    // when that worker ends. Unloaded, the thread's code is gone: even after every database is closed, the
    // thread is still returning from the mutex unlock that woke the closer (LevelDB's DBImpl::BackgroundCall),
    // and then parks in a wait inside that code. So the addon is loaded with RTLD_NODELETE: it stays mapped
    // until the process ends.
    const nativeDlopen = process.dlopen;
    if (workerData.keepLoadedFlag !== 0) {
      process.dlopen = (module, filename, flags) =>
        nativeDlopen.call(process, module, filename, (flags === undefined ? require('node:os').constants.dlopen.RTLD_LAZY : flags) | workerData.keepLoadedFlag);
    }
    let level;
    try {
      // dynalite opens its LevelDB with the defaults; the 'level' it requires (found from its own folder) is given
      // a larger write buffer first (see WRITE_BUFFER_BYTES), and each database it opens is kept for closing.
      level = require(require.resolve('level', { paths: [dirname(workerData.dynalitePath)] }));
    } finally {
      process.dlopen = nativeDlopen;
    }
    const DefaultLevel = level.Level;
    if (typeof DefaultLevel !== 'function') throw new Error("the 'level' module dynalite uses exports no Level class");
    const opened = [];
    level.Level = class extends DefaultLevel {
      constructor(location, options) {
        // A store that has files is never created afresh: LevelDB would start an empty database over them.
        super(location, { ...options, writeBufferSize: workerData.writeBufferBytes, maxOpenFiles: workerData.maxOpenFiles, createIfMissing: workerData.createIfMissing });
        opened.push(this);
      }
    };
    // LevelDB compacts a key range by first writing its write buffer out as a table, then merging the tables that
    // overlap the range. Every key dynalite writes starts with the ASCII name of its part ('item-revwatch~',
    // 'index-global~…'), so the range from U+FFFF up holds nothing: only the buffer is written out. A command
    // that wrote then leaves its writes in tables, and the next command opens the store without replaying them
    // from the log (up to WRITE_BUFFER_BYTES of it) first.
    const writeOutBuffers = () => Promise.all(opened.map((db) => db.status === 'open' ? db.compactRange('\uffff', '\uffff\uffff') : undefined));
    const message = (err) => String((err && err.message) || err);
    // dynalite reads the table's description from LevelDB for every item it writes (BatchWriteItem runs one
    // PutItem per item, each asking for the table): at 80,000 appendix rows that was a seventh of this thread's
    // time, and this thread is what a large write waits on. The description is kept here as the JSON it is
    // stored as, parsed afresh for each caller (callers may change the object they get), and dropped whenever
    // it is written or deleted; a read that began before such a write is not kept.
    const dynaliteDb = require(require('node:path').join(dirname(workerData.dynalitePath), 'db'));
    const createDynaliteStore = dynaliteDb.create;
    dynaliteDb.create = (options) => {
      const store = createDynaliteStore(options);
      const tableDb = store.tableDb;
      const read = tableDb.get, write = tableDb.put, remove = tableDb.del;
      const described = new Map();
      let writes = 0;
      tableDb.get = (key, cb) => {
        const text = described.get(key);
        if (text !== undefined) return process.nextTick(cb, null, JSON.parse(text));
        const before = writes;
        read.call(tableDb, key, (err, value) => {
          if (!err && value && typeof value === 'object' && before === writes) described.set(key, JSON.stringify(value));
          cb(err, value);
        });
      };
      const changing = (change) => (key, ...rest) => {
        writes++;
        described.delete(key);
        if (typeof rest[rest.length - 1] !== 'function') return change.call(tableDb, key, ...rest);
        const cb = rest.pop();
        change.call(tableDb, key, ...rest, (...results) => {
          writes++;
          described.delete(key);
          cb(...results);
        });
      };
      tableDb.put = changing(write);
      tableDb.del = changing(remove);
      // Parsing the description afresh still cost each item written ~25 us (on the bench's first check of 101,000
      // certificates, a twentieth of this thread's time). The item actions (PutItem, BatchWriteItem, GetItem,
      // Query...) ask for it with a callback alone and only read it: they share one parsed copy, frozen, for as
      // long as the description is the one kept above. The table actions that change their copy (UpdateTable,
      // DeleteTable) and DescribeTable ask with checkStatus false and still get their own.
      const getTable = store.getTable;
      const shared = new Map();
      store.getTable = (name, checkStatus, cb) => {
        if (typeof checkStatus !== 'function') return getTable(name, checkStatus, cb);
        const text = described.get(name);
        const kept = shared.get(name);
        if (kept !== undefined && text !== undefined && kept.text === text) return process.nextTick(checkStatus, null, kept.table);
        getTable(name, (err, table) => {
          const now = described.get(name);
          if (!err && now !== undefined) {
            const parsed = deepFreeze(JSON.parse(now));
            // Only a table item actions may use (getTable refuses one being created or deleted).
            if (parsed.TableStatus !== 'CREATING' && parsed.TableStatus !== 'DELETING') shared.set(name, { text: now, table: parsed });
          }
          checkStatus(err, table);
        });
      };
      return store;
    };
    // dynalite sends the CRC-32 of every answer (DynamoDB's x-amz-crc32 header) computed by buffer-crc32, a byte at
    // a time in JavaScript: reading a case's items page by page, that was a tenth of this thread's time. zlib's
    // CRC-32 is the same checksum (the IEEE polynomial, over the answer's UTF-8 bytes) in native code.
    const { crc32: nativeCrc32 } = require('node:zlib');
    if (typeof nativeCrc32 === 'function') {
      const answerCrc32 = require(require.resolve('buffer-crc32', { paths: [dirname(workerData.dynalitePath)] }));
      answerCrc32.unsigned = (body) => nativeCrc32(body);
    }
    const deepFreeze = (value) => {
      if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const v of Object.values(value)) deepFreeze(v);
      }
      return value;
    };
    const dynalite = require(workerData.dynalitePath);
    const server = dynalite({ path: workerData.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    // dynalite throws a LevelDB error it has no answer for (a write refused for want of space: IO error, No space
    // left on device) from LevelDB's callback, where nothing catches it: the thread died, and the command with
    // exit 70. Instead the command is told, the requests waiting on an answer are cut off, and the thread stays
    // to close the databases.
    process.on('uncaughtException', (err) => {
      parentPort.postMessage({ fatal: message(err) });
      server.closeAllConnections();
    });
    server.once('error', (err) => parentPort.postMessage({ error: String(err && err.message || err) }));
    // Opened before it serves: a store LevelDB finds damaged (a garbage CURRENT, a missing table file) is
    // refused at once, instead of failing request by request.
    opened[0].open().then(
      () => server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port })),
      (err) => parentPort.postMessage({ damaged: message(err.cause || err) }),
    );
    parentPort.on('message', async (m) => {
      if (m !== 'close') return;
      const problems = [];
      // Not written out: the log still holds every write, and the next opening replays it.
      await writeOutBuffers().catch(() => {});
      // dynalite's close stops the HTTP server, waits for the requests in flight, and closes its database.
      await new Promise((done) => server.close((err) => { if (err) problems.push(message(err)); done(); }));
      // Every database is closed here whatever dynalite did: LevelDB's close waits for a compaction in progress,
      // so nothing of LevelDB is still at work when this thread ends. Closing a closed one does nothing.
      for (const result of await Promise.allSettled(opened.map((db) => db.close()))) {
        if (result.status === 'rejected') problems.push(message(result.reason));
      }
      for (const db of opened) if (db.status !== 'closed') problems.push('a database is still ' + db.status);
      parentPort.postMessage({ closed: true, problems });
      // Nothing is left to keep this thread alive: it ends by itself.
      parentPort.close();
    });
  `;
  // The store's requests leave short-lived garbage only (each item's JSON, parsed and re-encoded): a small young
  // generation is collected often and cheaply, where V8's default let it hold tens of megabytes. On the bench's
  // 101,000-certificate home, `status` peaked ~25 MB lower with it, and `check` took no longer.
  const worker = new Worker(code, {
    eval: true,
    workerData: {
      dynalitePath,
      path,
      createIfMissing,
      writeBufferBytes: WRITE_BUFFER_BYTES,
      maxOpenFiles: MAX_OPEN_FILES,
      keepLoadedFlag: keepLoadedDlopenFlag(),
    },
    resourceLimits: { maxYoungGenerationSizeMb: 8 },
  });
  const exited = new Promise<number>((done) => worker.once('exit', done));
  return new Promise<DynaliteThread>((resolve, reject) => {
    const onExit = (code: number): void => {
      clearTimeout(startDeadline);
      reject(new StoreUnavailableError(`the embedded store's thread stopped (exit ${code}) before it listened`));
    };
    // A thread that never says it listens (a loaded machine is given a minute) is stopped: nothing of LevelDB has
    // run yet, since dynalite opens its database on the first request.
    const startDeadline = setTimeout(() => {
      worker.off('exit', onExit);
      void worker.terminate();
      reject(new StoreUnavailableError(`the embedded store did not start within ${START_DEADLINE_MS / 1000} s`));
    }, START_DEADLINE_MS);
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (m: { port?: number; error?: string; damaged?: string }) => {
      clearTimeout(startDeadline);
      if (m.error !== undefined || m.damaged !== undefined || m.port === undefined) {
        worker.postMessage('close');
        const why =
          m.damaged !== undefined && isNoSpace(m.damaged)
            ? noSpace(path, m.damaged)
            : new StoreUnavailableError(
                m.damaged !== undefined
                  ? `the store in ${path} is damaged: ${oneLine(m.damaged)}`
                  : `starting the embedded store failed: ${m.error ?? 'no port'}`,
              );
        void exited.then(() => reject(why));
        worker.off('exit', onExit);
        return;
      }
      worker.off('exit', onExit);
      let failure: Error | null = null;
      worker.on('message', (reply: { fatal?: string }) => {
        if (reply.fatal === undefined || failure !== null) return;
        failure = isNoSpace(reply.fatal)
          ? noSpace(path, reply.fatal)
          : new StoreUnavailableError(`the embedded store in ${path} failed: ${oneLine(reply.fatal)}`);
      });
      resolve({
        port: m.port,
        failure: () => failure,
        close: async () => {
          const closed = new Promise<{ problems: string[] }>((done) => {
            worker.on('message', (reply: { closed?: boolean; problems?: string[] }) => {
              if (reply.closed) done({ problems: reply.problems ?? [] });
            });
          });
          worker.postMessage('close');
          const reply = await Promise.race([
            closed,
            exited.then(() => ({ problems: ["the embedded store's thread ended before it closed the store"] })),
          ]);
          await exited;
          // After a failure the command ends with it, whatever else closing met (writing out a buffer for which
          // there is no space).
          if (failure !== null) throw failure;
          if (reply.problems.length > 0) throw new Error(`closing the embedded store failed: ${reply.problems.join('; ')}`);
        },
      });
    });
  });
}

/**
 * LevelDB could not write for want of space. What it had acknowledged is in its log or tables, a log record cut
 * short is dropped when the store is next opened, and nothing of the failed write was confirmed to the command.
 */
function noSpace(path: string, leveldbMessage: string): NoSpaceError {
  return new NoSpaceError(
    `no space left on the device holding the store in ${path} (${oneLine(leveldbMessage)}); free space and run the command again`,
  );
}

/** `dir` and those of its ancestors that do not exist, outermost first. */
function missingDirectories(dir: string): string[] {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  return missing;
}

/**
 * One directory of <home>/db, its parent being there already. Not `recursive`: Node's recursive mkdir never returns where a
 * directory exists but refuses children (`--home /proc/self`: it spun at 100 % CPU, deaf to SIGTERM).
 */
function makeStoreDirectory(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && statSync(dir).isDirectory()) return;
    const why =
      code === 'EROFS'
        ? 'the file system is read-only'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'EEXIST'
            ? 'it is not a directory'
            : (err as Error).message;
    throw new InputError(`cannot use ${dir} as the store's directory: ${oneLine(why)}`);
  }
}

/**
 * What can be seen of the store's files before LevelDB opens them, and whether LevelDB may create the store:
 * only where it holds no LevelDB file at all. Without CURRENT (the name of the live MANIFEST) LevelDB would start
 * an empty database and delete the table files it does not know. Then every live table file is checked
 * (checkLiveTables), before LevelDB runs: once it is open, its compactions may read a damaged block and write its
 * bytes on into new files with good checksums.
 */
function checkStoreFiles(dir: string, verifiedRecord: string): { createIfMissing: boolean } {
  const files = readdirSync(dir);
  const leveldbFiles = files.filter((f) => /^(\d+\.(ldb|sst|log)|MANIFEST-\d+|CURRENT)$/.test(f));
  if (leveldbFiles.length === 0) return { createIfMissing: true };
  if (!files.includes('CURRENT')) {
    throw new StoreUnavailableError(
      `the store in ${dir} is damaged: its CURRENT file is missing beside ${leveldbFiles.length} LevelDB file(s); ` +
        'refusing to start a new database over them (restore the home from a backup)',
    );
  }
  try {
    checkLiveTables(dir, verifiedRecord);
  } catch (err) {
    if (err instanceof LevelDbDamage) throw new StoreUnavailableError(`the store in ${dir} is damaged: ${err.message}`, { cause: err });
    throw err;
  }
  return { createIfMissing: false };
}

/**
 * Every table file the MANIFEST names must be there at the size it records, and each block of it must match its
 * CRC-32C (LevelDB itself checks neither: classic-level passes no paranoid_checks or verify_checksums, so a damaged
 * byte was served as data, or failed a read mid-command). A table file is never rewritten once LevelDB has written
 * it, so one whose size, modification and change times are those recorded in `verifiedRecord` at an earlier
 * check is not read again: an unchanged store costs one stat per table file, and after a command that wrote,
 * only the files its compactions made are read. A file damaged since without any of the three changing (bit rot
 * under the file system) is not found here.
 */
function checkLiveTables(dir: string, verifiedRecord: string): void {
  const verified = readVerifiedRecord(verifiedRecord);
  const nowVerified: Record<string, VerifiedTable> = {};
  let changed = false;
  for (const table of liveTables(dir)) {
    const [name, stat] = liveTableFile(dir, table.number);
    if (stat.size !== table.size) {
      throw new LevelDbDamage(name, `is truncated or not a table (${stat.size} bytes where its MANIFEST records ${table.size})`);
    }
    const seen: VerifiedTable = [stat.size, stat.mtimeMs, stat.ctimeMs];
    const before = verified[name];
    if (before === undefined || before.some((v, i) => v !== seen[i])) {
      checkTable(readFileSync(join(dir, name)), name);
      changed = true;
    }
    nowVerified[name] = seen;
  }
  if (changed || Object.keys(verified).length !== Object.keys(nowVerified).length) writeVerifiedRecord(verifiedRecord, nowVerified);
}

/** A table file's size, mtime and ctime in milliseconds, as they were when its blocks were last checked. */
type VerifiedTable = [number, number, number];

function liveTableFile(dir: string, number: number): [string, Stats] {
  for (const name of tableFileNames(number)) {
    try {
      return [name, statSync(join(dir, name))];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new LevelDbDamage(tableFileNames(number)[0], 'is missing (the MANIFEST names it)');
}

/** The record of checked table files; an unreadable or foreign record only means everything is checked again. */
function readVerifiedRecord(path: string): Record<string, VerifiedTable> {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as { format?: unknown; tables?: unknown };
    if (parsed.format !== 1 || typeof parsed.tables !== 'object' || parsed.tables === null) return {};
    const tables: Record<string, VerifiedTable> = {};
    for (const [name, value] of Object.entries(parsed.tables)) {
      if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === 'number')) tables[name] = value as VerifiedTable;
    }
    return tables;
  } catch {
    return {};
  }
}

/** Written whole under a temporary name and renamed; a record that cannot be written costs the next command a re-check, nothing more. */
function writeVerifiedRecord(path: string, tables: Record<string, VerifiedTable>): void {
  const temporary = `${path}.${process.pid}.partial`;
  try {
    writeFileSync(temporary, `${JSON.stringify({ format: 1, tables })}\n`);
    renameSync(temporary, path);
  } catch {
    rmSync(temporary, { force: true });
  }
}

/**
 * dlopen's RTLD_NODELETE, which Node does not export: glibc's and macOS's values. Elsewhere 0 (musl never
 * unloads a library; Windows is not a platform revwatch runs its local store on).
 */
function keepLoadedDlopenFlag(): number {
  if (process.platform === 'linux') return 0x1000;
  if (process.platform === 'darwin') return 0x80;
  return 0;
}

/** AWS mode: the deployed table, through the SDK's default credential and region chain. */
export function openAwsStore(tableName: string): OpenStore {
  const client = new DynamoDBClient({});
  return {
    store: new TableStore(openDynamoTable(client, { tableName })),
    async close() {
      client.destroy();
    },
  };
}
