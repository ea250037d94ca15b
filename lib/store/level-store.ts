import { realpathSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Level } from 'level';
import { MemoryLevel } from 'memory-level';
import { VastflowError, isVastflowError } from '../errors/vastflow-error.js';
import type { Blueprint } from '../model/blueprint.js';
import type { JsonObject } from '../model/json.js';
import { quoted } from '../model/describe-value.js';
import { blueprintClasses } from '../model/stream-tree.js';
import {
  isUnfinished,
  type Claim,
  type ClaimQuery,
  type CommandBody,
  type CommandQuery,
  type Fence,
  type FlowChange,
  type FlowHeader,
  type FlowQuery,
  type HeadwatersChange,
  type PurgeQuery,
  type StoredCommand,
  type StoredFlow,
  type StreamRecord,
  type WorkerBeat,
  type WorkerInfo,
  type WriteResult,
} from './records.js';
import { deferred, type Deferred } from '../util/deferred.js';
import { inconsistency } from './consistency.js';
import { openError, readError, REPAIR_HINT, writeFailure } from './level-errors.js';
import { headerJson, jsonNumber, pushStreams } from './record-json.js';
import type { Store, StoreStatus, StoreSupports } from './store.js';

type BatchOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/** An explicit read snapshot of a {@link LevelDatabase} (abstract-level's). */
export type LevelSnapshot = ReturnType<Level<string, string>['snapshot']>;

/** Where a read looks: an explicit snapshot, for reads that must see one state across keys. */
export interface LevelReadOptions {
  snapshot?: LevelSnapshot;
}

/** The part of abstract-level that LevelStore uses: `level` and `memory-level` both provide it. */
export interface LevelDatabase {
  readonly status: string;
  open(): Promise<void>;
  close(): Promise<void>;
  get(key: string, options?: LevelReadOptions): Promise<string | undefined>;
  getMany?(keys: string[], options?: LevelReadOptions): Promise<Array<string | undefined>>;
  /** A read on the calling thread (abstract-level 3.1 and later, where `supports.getSync`). */
  getSync?(key: string): string | undefined;
  batch(ops: BatchOp[], options?: { sync?: boolean }): Promise<void>;
  iterator(options: { gt?: string; lt?: string; reverse?: boolean; limit?: number; values?: boolean } & LevelReadOptions): {
    all(): Promise<Array<[string, string]>>;
  };
  /** An explicit snapshot (abstract-level 2 and later): a flow's header and journal are read from one. */
  snapshot?(): LevelSnapshot;
}

/** Options of a {@link LevelStore}. */
export interface LevelStoreOptions {
  /** fsync every write before it resolves. @default false */
  sync?: boolean;
}

// Record layout (one LevelDB key space, utf8 keys and JSON values), format 3:
//   x!<bucket>!<flow>        FlowHeader             bucket: `open` while unfinished, else its status
//   j!<flow>!<seq, 16 digits> one write's change of the flow's blueprint, streams and headwaters
//   r!<requestId>            flow id                q!<seq, 16 digits> flow id of a waiting flow
//   m!<flow>!<seq, 16 digits> StoredCommand         v!format           '3'
//   v!journal                the journal seqs handed out up to here (a reservation, see #nextSeq)
// A flow is its header plus its journal folded in seq order: a write of the flow adds one journal
// entry (what changed in its streams and headwaters, and its blueprint at creation) and rewrites
// its header when that changed, so a step costs one or two records whatever it touched.
// Format 2 kept the header in f!<flow> (x! keys held ''), the blueprint in b!<flow>, each stream in
// s!<flow>!<stream> and each headwaters value in h!<flow>!<scope>!<key>; format 1 also had u!<flow>
// for x!open!<flow> and no x! keys of ended flows. open() migrates both.
const END = '\xff';
const FORMAT = 3;
/** The key prefixes of every format, in key order: format 3's j m q r v x, and format 1 and 2's b f h s u. */
const OWN_PREFIXES = ['b', 'f', 'h', 'j', 'm', 'q', 'r', 's', 'u', 'v', 'x'] as const;
const BUCKETS = ['open', 'success', 'fail', 'cancelled'] as const;
const FINAL_BUCKETS = ['success', 'fail', 'cancelled'] as const;
/** Journal seqs reserved per write of v!journal: one extra record in a billion. */
const SEQ_CHUNK = 1_000_000_000;
/** A stream's record written at every this-many calls of its river asks for its flow's journal to be folded. */
const COMPACT_CALLS = 32;
/** A journal this long, read of an unfinished flow, is folded into one entry. */
const COMPACT_ENTRIES = 64;
const EMPTY_RESULT: WriteResult = Object.freeze({ fenced: Object.freeze([]) as unknown as string[], duplicates: Object.freeze([]) as unknown as string[] });

/** One journal entry: `full` replaces everything before it (a folded journal), else it adds to it. */
interface JournalEntry {
  full?: 1;
  b?: Blueprint;
  s?: Record<string, StreamRecord>;
  w?: Record<string, HeadwatersChange>;
}

/** A flow's journal folded. */
interface Folded {
  blueprint: Blueprint | undefined;
  streams: Record<string, StreamRecord>;
  headwaters: Record<string, JsonObject>;
}

const bucketOf = (h: FlowHeader): string => (isUnfinished(h) ? 'open' : h.status);

// jsonNumber: a seq (past 2^31) prints faster than by String()
/** What the engine's flow ids are made of (a base-36 time and count, then a nanoid). */
const FLOW_ID = /^[\w-]{1,64}$/;
const pad = (n: number, width: number): string => jsonNumber(Math.trunc(n)).padStart(width, '0');

/** The absolute path of a directory, its symbolic links resolved (those of its parents if it does not exist yet). */
function realDirectory(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync.native(absolute);
  } catch {
    try {
      return join(realpathSync.native(dirname(absolute)), basename(absolute));
    } catch {
      return absolute;
    }
  }
}

/**
 * Makes the directory and its missing parents one at a time, as LevelDB's open would. Node's own
 * recursive mkdir never settles on a path where mkdir says ENOENT of a parent that exists (under
 * /proc): that is an error here, which open() reports.
 */
async function makeDirectory(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ;) {
    try {
      await stat(d);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      missing.push(d);
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  for (const d of missing.reverse()) {
    await mkdir(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
}

/** Whether `db` reads a key on the calling thread (abstract-level's `getSync`). */
function readsSync(db: LevelDatabase): boolean {
  return (db as { supports?: { getSync?: boolean } }).supports?.getSync === true && typeof db.getSync === 'function';
}

/** The database of a store made by `LevelStore.at()` until open() makes it (a classic-level one: it has chained batches). */
const UNOPENED = { supports: {} } as unknown as LevelDatabase;

/** abstract-level's chained batch: `db.batch()` with no arguments. */
interface ChainedLevel {
  batch(): { put(key: string, value: string): unknown; del(key: string): unknown; write(options?: { sync?: boolean }): Promise<void>; close(): Promise<void> };
}

/**
 * Writes `ops` through a chained batch. The same batch as an array of ops, but cheaper for the
 * caller: classic-level reads an array's ops in C++ property by property (`type`, `key`, `value`,
 * each looked up by name), 2.4-3.5 µs of the event loop's time per op, where a chained batch takes
 * 1.4 µs per op (one call with the key and value as arguments).
 */
function chainedBatch(db: ChainedLevel, ops: readonly BatchOp[], options: { sync?: boolean } | undefined): Promise<void> {
  let batch: ReturnType<ChainedLevel['batch']>;
  try {
    // throws at once (not a rejection) when the database is not open
    batch = db.batch();
  } catch (err) {
    return Promise.reject(err);
  }
  try {
    for (const op of ops) {
      if (op.type === 'put') batch.put(op.key, op.value);
      else batch.del(op.key);
    }
  } catch (err) {
    return batch.close().then(
      () => Promise.reject(err),
      () => Promise.reject(err),
    );
  }
  return batch.write(options);
}

/**
 * The store on any abstract-level database: LevelDB on disk (`level`, the default) or in memory
 * (`memory-level`, `store: 'memory'`).
 * @example
 * const engine = await Engine.open({ store: LevelStore.at('./data/flows', { sync: true }) });
 */
export class LevelStore implements Store {
  readonly supports: StoreSupports;
  #db: LevelDatabase;
  readonly #sync: boolean;
  /** An abstract-level database: batches are filled op by op (see {@link chainedBatch}). */
  readonly #chained: boolean;
  /** The database reads a key on the calling thread (see {@link findFlowId}). */
  #getSync: boolean;
  readonly #where: string;
  #status: StoreStatus = 'new';
  /** Set by the first failed write: every later write is refused with it. */
  #failure: VastflowError | undefined;
  /** Settles once the latest write has (each write's settling waits for the one before it). */
  #settled: Promise<void> = Promise.resolve();
  #lookups = new Map<string, Deferred<string | undefined>>();
  /** Claims: the one engine's bookkeeping (nothing is fenced in a store with one engine). */
  readonly #claims = new Map<string, Fence>();
  readonly #workers = new Map<string, WorkerInfo & { expiresAt: number }>();
  #commandSeq = 0;
  /** The last journal seq handed out, and the one up to which v!journal reserves them. */
  #seq = 0;
  #reserved = 0;
  /** Flows whose journal is being folded, and the folds under way (close() waits for them). */
  readonly #folding = new Set<string>();
  readonly #chores = new Set<Promise<void>>();
  /** The directory of a store made by `at()`: open() makes it, then the database on it. */
  #directory: string | undefined;

  /** A store on an abstract-level database opened with utf8 keys and values. */
  constructor(db: LevelDatabase, options: LevelStoreOptions & { where?: string; persistent?: boolean } = {}) {
    this.#db = db;
    this.#sync = options.sync ?? false;
    // abstract-level databases (classic-level, memory-level, a sublevel) declare what they support
    this.#chained = typeof (db as { supports?: unknown }).supports === 'object';
    this.#getSync = readsSync(db);
    this.#where = options.where ?? 'database';
    const persistent = options.persistent ?? true;
    // on disk, concurrent batches share LevelDB's log write; in memory they would only be smaller
    this.supports = { sync: persistent, persistent, concurrentWrites: persistent };
  }

  /** A store on a LevelDB directory. */
  static at(path: string, options: LevelStoreOptions = {}): LevelStore {
    // LevelDB locks a directory against other processes, and within one process by its path as
    // spelled: `./data` and `/srv/app/data/` would both open it (and the close of one would free
    // the lock for other processes too), so it is opened by one spelling of its real path
    // made by open(), once its directory is: abstract-level opens a database as it is made, and
    // classic-level's own mkdir of a path under /proc never settles (nor lets the process exit)
    const store = new LevelStore(UNOPENED, { ...options, where: path, persistent: true });
    store.#directory = realDirectory(path);
    return store;
  }

  /**
   * Repairs a damaged LevelDB directory with LevelDB's own repair (`RepairDB`): it rebuilds the
   * directory's manifest from the log and table files it can read and drops what it cannot. Run it
   * with no engine open on the directory, after a copy of the directory is kept aside; flows whose
   * records were in the damaged part are lost or come back as they were earlier.
   * @example
   * await LevelStore.repair('./data/flows');
   * const engine = await Engine.open({ store: './data/flows' });
   */
  static repair(path: string): Promise<void> {
    // in Node, `level` is classic-level's ClassicLevel, whose static repair() its types do not declare
    return (Level as unknown as { repair(location: string): Promise<void> }).repair(path);
  }

  /** A store in memory: nothing survives the process. */
  static memory(): LevelStore {
    const db = new MemoryLevel<string, string>({ keyEncoding: 'utf8', valueEncoding: 'utf8' });
    return new LevelStore(db as unknown as LevelDatabase, { where: 'memory', persistent: false });
  }

  get status(): StoreStatus {
    return this.#status;
  }

  async open(): Promise<void> {
    if (this.#status === 'open') return;
    this.#status = 'opening';
    try {
      if (this.#db === UNOPENED) {
        await makeDirectory(this.#directory!);
        this.#db = new Level<string, string>(this.#directory!, { keyEncoding: 'utf8', valueEncoding: 'utf8' }) as unknown as LevelDatabase;
        this.#getSync = readsSync(this.#db);
      }
      await this.#db.open();
    } catch (err) {
      this.#status = 'closed';
      throw openError(err, this.#where);
    }
    try {
      await this.#upgrade();
    } catch (err) {
      this.#status = 'closed';
      await this.#db.close().catch(() => undefined);
      throw err;
    }
    this.#status = 'open';
  }

  /**
   * Brings a store of an earlier format to this one, in one batch; refuses a later format. Reserves
   * the journal seqs this process hands out: above every seq an earlier process reserved (so a
   * flow's entries keep their order even when the clock went back) and above the clock (so they do
   * even when the reservation cannot be read).
   */
  async #upgrade(): Promise<void> {
    let raw: string | undefined;
    let reserved: string | undefined;
    try {
      [raw, reserved] = await Promise.all([this.#db.get('v!format'), this.#db.get('v!journal')]);
    } catch {
      // a damaged table: the flows' own reads report it, each with its coded error (and repair)
      this.#seq = this.#reserved = Date.now() * 1000;
      return;
    }
    // reserved at the first journal entry this process writes: an open that writes nothing changes nothing
    this.#seq = this.#reserved = Math.max(Number(reserved ?? 0) || 0, Date.now() * 1000);
    const format = raw === undefined ? undefined : Number(raw);
    if (format !== undefined && !Number.isInteger(format)) {
      throw new VastflowError(
        'E_STORE_CORRUPT',
        `store ${this.#where}: its format record (v!format) is unreadable (${JSON.stringify(raw!.slice(0, 40))}); ${REPAIR_HINT}`,
      );
    }
    if (format !== undefined && !(format <= FORMAT)) {
      throw new VastflowError(
        'E_STORE_CORRUPT',
        `store ${this.#where} has format ${raw}, written by a later version of vastflow than this one (format ${FORMAT}): open it with that version`,
      );
    }
    if (format === FORMAT) return;
    if (format === undefined) {
      const foreign = await this.#foreignKey();
      if (foreign !== undefined) {
        throw new VastflowError(
          'E_STORE_CORRUPT',
          `store ${this.#where} is a LevelDB database that vastflow did not write (it holds the key ${quoted(foreign, 60)}); give vastflow a directory of its own, empty or written by vastflow`,
        );
      }
    }
    const ops: BatchOp[] = [{ type: 'put', key: 'v!format', value: String(FORMAT) }];
    await this.#migrate(ops);
    try {
      await this.#db.batch(ops, { sync: true });
    } catch (err) {
      throw writeFailure(err, this.#where);
    }
  }

  /**
   * A key no format of vastflow writes, in a store with no format record: a LevelDB database of
   * something else, which open() must not stamp as its own. Undefined for an empty or an old store.
   */
  async #foreignKey(): Promise<string | undefined> {
    // the gaps around the key ranges of OWN_PREFIXES, each read for one key
    const bounds = [undefined, ...OWN_PREFIXES.map((p) => `${p}!`), undefined];
    try {
      for (let i = 0; i + 1 < bounds.length; i++) {
        const after = i === 0 ? undefined : `${bounds[i]!}${END}`;
        const before = bounds[i + 1];
        const found = await this.#db
          .iterator({ ...(after === undefined ? {} : { gt: after }), ...(before === undefined ? {} : { lt: before }), limit: 1, values: false })
          .all();
        if (found.length > 0) return found[0]![0];
      }
    } catch {
      // a damaged table: the flows' own reads report it
    }
    return undefined;
  }

  /**
   * Formats 1 and 2 to 3: each flow's f!, b!, s! and h! records become its header in x!<bucket>!
   * and one journal entry, built from the stored text as it is (an unreadable record stays
   * unreadable, and getFlow reports it); format 1's u! keys go.
   */
  async #migrate(ops: BatchOp[]): Promise<void> {
    for (const [key] of await this.#scan('u!', 'the unfinished-flow index of format 1')) ops.push({ type: 'del', key });
    const flows = new Map<string, { header: string; blueprint?: string; streams: string[]; scopes: Map<string, string[]> }>();
    for (const [key, value] of await this.#scan('f!', 'the flow headers of format 2'))
      flows.set(key.slice(2), { header: value, streams: [], scopes: new Map() });
    for (const [key, value] of await this.#scan('b!', 'the blueprints of format 2')) {
      const f = flows.get(key.slice(2));
      if (f !== undefined) f.blueprint = value;
    }
    for (const [key, value] of await this.#scan('s!', 'the stream records of format 2')) {
      const [, id, sid] = key.split('!') as [string, string, string];
      flows.get(id)?.streams.push(`${JSON.stringify(sid)}:${value}`);
    }
    for (const [key, value] of await this.#scan('h!', 'the headwaters of format 2')) {
      const cut = key.indexOf('!', 2);
      const cut2 = key.indexOf('!', cut + 1);
      const f = flows.get(key.slice(2, cut));
      if (f === undefined) continue;
      const scope = key.slice(cut + 1, cut2);
      let values = f.scopes.get(scope);
      if (values === undefined) f.scopes.set(scope, (values = []));
      values.push(`${JSON.stringify(key.slice(cut2 + 1))}:${value}`);
    }
    for (const [key] of await this.#scan('x!', 'the status index of format 2')) ops.push({ type: 'del', key });
    for (const [id, f] of flows) {
      let bucket = 'open';
      try {
        bucket = bucketOf(JSON.parse(f.header) as FlowHeader);
      } catch {
        // unreadable: kept as it is among the unfinished flows, where recovery reports it
      }
      ops.push({ type: 'put', key: `x!${bucket}!${id}`, value: f.header }, { type: 'del', key: `f!${id}` }, { type: 'del', key: `b!${id}` });
      const scopes = [...f.scopes].map(([scope, values]) => `${JSON.stringify(scope)}:{"set":{${values.join(',')}},"del":[]}`);
      const entry = `{"full":1${f.blueprint === undefined ? '' : `,"b":${f.blueprint}`},"s":{${f.streams.join(',')}},"w":{${scopes.join(',')}}}`;
      ops.push({ type: 'put', key: `j!${id}!${this.#nextSeq(ops)}`, value: entry });
    }
    for (const prefix of ['s!', 'h!'])
      for (const [key] of await this.#scan(prefix, 'the records of format 2')) if (flows.has(key.split('!')[1]!)) ops.push({ type: 'del', key });
  }

  async close(): Promise<void> {
    if (this.#status === 'closed' || this.#status === 'new') {
      this.#status = 'closed';
      return;
    }
    this.#status = 'closing';
    await Promise.allSettled([...this.#chores]);
    await this.#db.close();
    this.#status = 'closed';
  }

  write(changes: readonly FlowChange[]): Promise<WriteResult> {
    if (this.#status !== 'open') return Promise.reject(this.#closedError('write'));
    const ops: BatchOp[] = [];
    let fold: string[] | undefined;
    try {
      for (const c of changes) if (this.#ops(c, ops)) (fold ??= []).push(c.flowId);
    } catch (err) {
      return Promise.reject(err);
    }
    for (const c of changes) if (c.create !== undefined && c.fence !== undefined) this.#claims.set(c.flowId, { ...c.fence });
    const written = this.#batch(ops);
    if (fold !== undefined)
      written.then(
        () => fold.forEach((id) => this.#compact(id)),
        () => undefined,
      );
    return written.then(() => EMPTY_RESULT);
  }

  /** Writes a batch after every batch before it has settled; the first failure is final. */
  #batch(ops: BatchOp[]): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (ops.length === 0) return Promise.resolve();
    // a write is acknowledged once every write issued before it has settled: LevelDB logs them in
    // issue order but may report them out of it, and one logged after a failed write is lost
    const before = this.#settled;
    const options = this.#sync ? { sync: true } : undefined;
    const written = (this.#chained ? chainedBatch(this.#db as unknown as ChainedLevel, ops, options) : this.#db.batch(ops, options)).then(
      () =>
        before.then(() => {
          if (this.#failure !== undefined) throw this.#failure;
        }),
      (err: unknown) => {
        // LevelDB does not remember a failed log write (unless sync): the next write appends after a
        // torn record and "succeeds", and the next open drops it. So the first failure is final here.
        this.#failure ??= writeFailure(err, this.#where);
        throw this.#failure;
      },
    );
    this.#settled = written.then(
      () => undefined,
      () => undefined,
    );
    return written;
  }

  /** The next journal seq; a batch that passes the reservation carries the next one. */
  #nextSeq(ops: BatchOp[]): string {
    if (++this.#seq >= this.#reserved) {
      this.#reserved = this.#seq + SEQ_CHUNK;
      ops.push({ type: 'put', key: 'v!journal', value: String(this.#reserved) });
    }
    return pad(this.#seq, 16);
  }

  /** Adds the change's records to `ops`; true when its flow's journal is due to be folded. */
  #ops(c: FlowChange, ops: BatchOp[]): boolean {
    const id = c.flowId;
    const h = c.header;
    if (c.create !== undefined) ops.push({ type: 'put', key: `r!${h!.requestId}`, value: id });
    let unfinished = true;
    if (h !== undefined) {
      // the header is the value of its status index: the flow moves between buckets as it ends or reopens
      const value = headerJson(h);
      if (h.status === 'waiting') ops.push({ type: 'put', key: `q!${pad(h.seq, 16)}`, value: id });
      else if (c.claimed) ops.push({ type: 'del', key: `q!${pad(h.seq, 16)}` });
      unfinished = isUnfinished(h);
      if (unfinished) {
        if (c.reopened) for (const b of FINAL_BUCKETS) ops.push({ type: 'del', key: `x!${b}!${id}` });
        ops.push({ type: 'put', key: `x!open!${id}`, value });
      } else {
        ops.push({ type: 'del', key: `x!open!${id}` }, { type: 'put', key: `x!${h.status}!${id}`, value });
      }
    }
    if (c.consumed !== undefined) for (const seq of c.consumed) ops.push({ type: 'del', key: `m!${id}!${pad(seq, 16)}` });
    if (c.create === undefined && c.streams === undefined && c.headwaters === undefined) return false;
    // a JournalEntry's JSON, its parts joined once into a flat string (see record-json.ts)
    const entry = ['{'];
    if (c.create !== undefined) entry.push('"b":', JSON.stringify(c.create.blueprint));
    let fold = false;
    if (c.streams !== undefined) {
      entry.push(entry.length === 1 ? '"s":' : ',"s":');
      pushStreams(entry, c.streams);
      for (const sid in c.streams) {
        const calls = c.streams[sid]!.attempts + c.streams[sid]!.cycles;
        if (calls > 0 && calls % COMPACT_CALLS === 0) fold = unfinished;
      }
    }
    if (c.headwaters !== undefined) entry.push(entry.length === 1 ? '"w":' : ',"w":', JSON.stringify(c.headwaters));
    entry.push('}');
    ops.push({ type: 'put', key: `j!${id}!${this.#nextSeq(ops)}`, value: entry.join('') });
    return fold;
  }

  /**
   * Folds an unfinished flow's journal into one entry (in place of its latest, the others deleted),
   * once every write issued before has settled. A write of the flow meanwhile adds an entry after
   * it; a second fold at once leaves two full entries, the later of which wins.
   */
  #compact(id: string): void {
    if (this.#folding.has(id) || this.#status !== 'open') return;
    this.#folding.add(id);
    const chore = (async () => {
      await this.#settled;
      if (this.#status !== 'open') return;
      const [entries, open] = await Promise.all([this.#scan(`j!${id}!`, `flow ${id}`), this.#db.get(`x!open!${id}`)]);
      if (entries.length < 2 || open === undefined) return;
      const f = this.#fold(id, entries);
      const w: Record<string, HeadwatersChange> = {};
      for (const scope of Object.keys(f.headwaters)) w[scope] = { set: f.headwaters[scope]!, del: [] };
      const full: JournalEntry = { full: 1, ...(f.blueprint === undefined ? {} : { b: f.blueprint }), s: f.streams, w };
      const ops: BatchOp[] = entries.slice(0, -1).map(([key]) => ({ type: 'del', key }));
      ops.push({ type: 'put', key: entries[entries.length - 1]![0], value: JSON.stringify(full) });
      await this.#batch(ops);
    })()
      .catch(() => undefined) // an unreadable entry stays for getFlow to report; a failed write fails the next write
      .finally(() => {
        this.#folding.delete(id);
        this.#chores.delete(chore);
      });
    this.#chores.add(chore);
  }

  /** A flow's journal entries, in seq order, folded into its blueprint, streams and headwaters. */
  #fold(id: string, entries: Array<[string, string]>): Folded {
    const f: Folded = { blueprint: undefined, streams: {}, headwaters: {} };
    for (const [key, raw] of entries) {
      const e = this.#parse<JournalEntry>(id, key, raw);
      if (e.full === 1) {
        f.streams = {};
        f.headwaters = {};
      }
      if (e.b !== undefined) f.blueprint = e.b;
      if (e.s !== undefined) for (const sid of Object.keys(e.s)) f.streams[sid] = e.s[sid]!;
      if (e.w === undefined) continue;
      for (const scope of Object.keys(e.w)) {
        const delta = e.w[scope]!;
        const scoped: JsonObject = (f.headwaters[scope] ??= {});
        for (const k of Object.keys(delta.set)) scoped[k] = delta.set[k]!;
        for (const k of delta.del) delete scoped[k];
      }
    }
    // a scope with no keys is not kept, as a scope that was never written
    for (const scope of Object.keys(f.headwaters)) if (Object.keys(f.headwaters[scope]!).length === 0) delete f.headwaters[scope];
    return f;
  }

  async getFlow(id: string): Promise<StoredFlow | undefined> {
    this.#assertOpen('getFlow');
    // header and journal from one snapshot: a write landing between the two reads would show a mix
    const [found, entries] = await this.#reading((snapshot) =>
      Promise.all([this.#header(id, snapshot), this.#db.iterator({ gt: `j!${id}!`, lt: `j!${id}!${END}`, snapshot }).all()]),
    ).catch((err: unknown) => {
      throw readError(err, this.#where, `flow ${id}`);
    });
    if (found === undefined) return undefined;
    const header = this.#parse<FlowHeader>(id, found.key, found.raw);
    const f = this.#fold(id, entries);
    if (f.blueprint === undefined) this.#corrupt(id, `j!${id}!*`, 'its journal has no blueprint');
    const flow: StoredFlow = { header, blueprint: f.blueprint, streams: f.streams, headwaters: f.headwaters };
    // LevelDB skips a damaged stretch of its log without a word: what is left must still agree
    const why = inconsistency(flow);
    if (why !== undefined) {
      throw new VastflowError('E_STORE_CORRUPT', `flow ${id}: its records in ${this.#where} disagree (part of them was lost): ${why}`);
    }
    if (entries.length > COMPACT_ENTRIES && isUnfinished(header)) this.#compact(id);
    return flow;
  }

  /** Runs `read` on an explicit snapshot, where the database has them, and closes it after. */
  async #reading<T>(read: (snapshot: LevelSnapshot | undefined) => Promise<T>): Promise<T> {
    const snapshot = this.#db.snapshot?.();
    try {
      return await read(snapshot);
    } finally {
      await snapshot?.close();
    }
  }

  /** The values of `keys`, in one getMany where the database has it. */
  #getMany(keys: string[], snapshot?: LevelSnapshot): Promise<Array<string | undefined>> {
    const o = snapshot === undefined ? undefined : { snapshot };
    return this.#db.getMany !== undefined ? this.#db.getMany(keys, o) : Promise.all(keys.map((k) => this.#db.get(k, o)));
  }

  /** The flow's header record, in whichever bucket it is. */
  async #header(id: string, snapshot?: LevelSnapshot): Promise<{ key: string; raw: string } | undefined> {
    const keys = BUCKETS.map((b) => `x!${b}!${id}`);
    const raws = await this.#getMany(keys, snapshot);
    const at = raws.findIndex((r) => r !== undefined);
    return at < 0 ? undefined : { key: keys[at]!, raw: raws[at]! };
  }

  findFlowId(requestId: string): Promise<string | undefined> {
    if (this.#status !== 'open') return Promise.reject(this.#closedError('findFlowId'));
    if (this.#getSync) {
      try {
        return Promise.resolve(this.#flowIdOf(requestId, this.#db.getSync!(`r!${requestId}`)));
      } catch (err) {
        return Promise.reject(isVastflowError(err) ? err : readError(err, this.#where, `the requestId index (r!${requestId})`));
      }
    }
    if (this.#db.getMany === undefined) {
      return this.#db.get(`r!${requestId}`).then(
        (value) => this.#flowIdOf(requestId, value),
        (err: unknown) => Promise.reject(readError(err, this.#where, `the requestId index (r!${requestId})`)),
      );
    }
    // the lookups of every flow started in this turn of the event loop go as one getMany
    let pending = this.#lookups.get(requestId);
    if (pending === undefined) {
      pending = deferred();
      this.#lookups.set(requestId, pending);
      if (this.#lookups.size === 1) setImmediate(() => this.#lookupAll());
    }
    return pending.promise;
  }

  /** The flow id the requestId index holds; E_STORE_CORRUPT for a value no engine writes (a damaged record). */
  #flowIdOf(requestId: string, value: string | undefined): string | undefined {
    if (value === undefined || FLOW_ID.test(value)) return value;
    throw new VastflowError(
      'E_STORE_CORRUPT',
      `the requestId index (r!${requestId}) in ${this.#where} holds ${JSON.stringify(value.slice(0, 40))}, not a flow id; ${REPAIR_HINT}`,
    );
  }

  #lookupAll(): void {
    const batch = this.#lookups;
    this.#lookups = new Map();
    const ids = [...batch.keys()];
    this.#db.getMany!(ids.map((r) => `r!${r}`)).then(
      (values) =>
        ids.forEach((r, i) => {
          try {
            batch.get(r)!.resolve(this.#flowIdOf(r, values[i]));
          } catch (err) {
            batch.get(r)!.reject(err);
          }
        }),
      (err: unknown) => {
        const mapped = readError(err, this.#where, `the requestId index (r!${ids.length === 1 ? ids[0] : '…'})`);
        batch.forEach((d) => d.reject(mapped));
      },
    );
  }

  async listFlows(query: FlowQuery = {}): Promise<FlowHeader[]> {
    this.#assertOpen('listFlows');
    const limit = query.limit ?? Infinity;
    const { before, status } = query;
    // the headers are the buckets' values, each bucket in id order: read back from `before`, as many
    // as the page needs. Running and waiting flows, and ended ones whose hook has not run yet, are in
    // `open` (few: at most the flows in flight), filtered by status; ended ones in their status's.
    const buckets = status === undefined ? BUCKETS : status === 'running' || status === 'waiting' ? (['open'] as const) : (['open', status] as const);
    // one snapshot for all buckets: a flow that ends meanwhile is listed once
    const pages = await this.#reading((snapshot) =>
      Promise.all(
        buckets.map((b) => {
          const exact = b !== 'open' || status === undefined;
          return this.#scan(`x!${b}!`, b === 'open' ? 'the unfinished flows' : `the ${b} flows`, {
            reverse: true,
            before,
            limit: exact ? limit : Infinity,
            snapshot,
          });
        }),
      ),
    );
    const byId = new Map<string, FlowHeader>();
    for (const page of pages) {
      for (const [, raw] of page) {
        const h = this.#readable(raw);
        if (h !== undefined && (status === undefined || h.status === status)) byId.set(h.id, h);
      }
    }
    const out = [...byId.values()];
    if (buckets.length > 1) out.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return out.length > limit ? out.slice(0, limit) : out;
  }

  /** The headers of these unfinished flows, those readable (an unreadable one is reported by getFlow(id)). */
  async #openHeaders(ids: readonly string[]): Promise<FlowHeader[]> {
    if (ids.length === 0) return [];
    const raws = await this.#getMany(ids.map((id) => `x!open!${id}`)).catch((err: unknown) => Promise.reject(readError(err, this.#where, 'the flow headers')));
    const out: FlowHeader[] = [];
    for (const raw of raws) {
      const h = raw === undefined ? undefined : this.#readable(raw);
      if (h !== undefined) out.push(h);
    }
    return out;
  }

  #readable(raw: string): FlowHeader | undefined {
    try {
      return JSON.parse(raw) as FlowHeader;
    } catch {
      return undefined; // an unreadable flow is reported by getFlow(id), not by hiding every other flow
    }
  }

  async listUnfinished(): Promise<string[]> {
    this.#assertOpen('listUnfinished');
    const entries = await this.#scan('x!open!', 'the unfinished flows', { values: false });
    return entries.map(([key]) => key.slice(7));
  }

  async listWaiting(): Promise<string[]> {
    this.#assertOpen('listWaiting');
    const entries = await this.#scan('q!', 'the waiting queue');
    return entries.map(([, id]) => id);
  }

  async listDue(now: number, limit: number): Promise<string[]> {
    this.#assertOpen('listDue');
    return (await this.#due(now, limit, undefined)).map((h) => h.id);
  }

  /** Unfinished, not waiting, due by `now`, held by no live engine but `owner`: earliest due first. */
  async #due(now: number, limit: number, owner: string | undefined): Promise<FlowHeader[]> {
    const due: FlowHeader[] = [];
    for (const [, raw] of await this.#scan('x!open!', 'the unfinished flows')) {
      const h = this.#readable(raw);
      if (h !== undefined && h.status !== 'waiting' && (h.dueAt === undefined || h.dueAt <= now) && this.#free(h.id, now, owner)) due.push(h);
    }
    due.sort((a, b) => (a.dueAt ?? 0) - (b.dueAt ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return due.slice(0, limit);
  }

  /** No live engine other than `owner` holds the flow. */
  #free(flowId: string, now: number, owner: string | undefined): boolean {
    const held = this.#claims.get(flowId);
    if (held === undefined || held.owner === '' || held.owner === owner) return true;
    const w = this.#workers.get(held.owner);
    return w === undefined || w.expiresAt < now;
  }

  async claim(query: ClaimQuery): Promise<Claim[]> {
    this.#assertOpen('claim');
    let candidates: FlowHeader[];
    if (query.ids !== undefined) {
      candidates = (await this.#openHeaders(query.ids)).filter((h) => isUnfinished(h) && this.#free(h.id, query.now, query.owner));
    } else {
      candidates = await this.#due(query.now, Infinity, query.owner);
      const waiting = await this.#openHeaders(await this.listWaiting());
      candidates.push(...waiting.filter((h) => this.#free(h.id, query.now, query.owner)));
    }
    const out: Claim[] = [];
    for (const h of candidates) {
      if (out.length >= query.limit) break;
      if (query.classes !== undefined && !(await this.#runnableBy(h.id, query.classes))) continue;
      const held = this.#claims.get(h.id);
      const epoch = held !== undefined && held.owner === query.owner ? held.epoch : (held?.epoch ?? 0) + 1;
      this.#claims.set(h.id, { owner: query.owner, epoch });
      out.push({ flowId: h.id, epoch });
    }
    return out;
  }

  /** The flow needs no class outside `classes` (LevelStore reads them off its blueprint). */
  async #runnableBy(flowId: string, classes: ReadonlySet<string>): Promise<boolean> {
    // the journal's first entry is the flow's creation, or a fold of its journal: it has the blueprint
    const [first] = await this.#scan(`j!${flowId}!`, `flow ${flowId}`, { limit: 1 });
    const bp = first === undefined ? undefined : this.#parse<JournalEntry>(flowId, first[0], first[1]).b;
    return bp !== undefined && blueprintClasses(bp).every((c) => classes.has(c));
  }

  release(owner: string, flowIds: readonly string[]): Promise<void> {
    if (this.#status !== 'open') return Promise.reject(this.#closedError('release'));
    for (const id of flowIds) {
      const held = this.#claims.get(id);
      if (held?.owner === owner) this.#claims.set(id, { owner: '', epoch: held.epoch });
    }
    return Promise.resolve();
  }

  heartbeat(beat: WorkerBeat): Promise<{ lost: string[] }> {
    if (this.#status !== 'open') return Promise.reject(this.#closedError('heartbeat'));
    this.#workers.set(beat.id, { id: beat.id, heartbeatAt: beat.now, expiresAt: beat.now + beat.leaseMs, running: beat.running });
    return Promise.resolve({ lost: beat.held.filter((id) => this.#claims.get(id)?.owner !== beat.id) });
  }

  workers(now: number): Promise<WorkerInfo[]> {
    if (this.#status !== 'open') return Promise.reject(this.#closedError('workers'));
    const live = [...this.#workers.values()].filter((w) => w.expiresAt >= now);
    return Promise.resolve(live.map(({ id, heartbeatAt, running }) => ({ id, heartbeatAt, running })));
  }

  leave(owner: string): Promise<void> {
    if (this.#status !== 'open') return Promise.reject(this.#closedError('leave'));
    this.#workers.delete(owner);
    for (const [id, held] of this.#claims) if (held.owner === owner) this.#claims.set(id, { owner: '', epoch: held.epoch });
    return Promise.resolve();
  }

  async addCommand(flowId: string, body: CommandBody, at: number): Promise<StoredCommand | undefined> {
    this.#assertOpen('addCommand');
    const exists = await this.#header(flowId).catch((err: unknown) => Promise.reject(readError(err, this.#where, `flow ${flowId}`)));
    if (exists === undefined) return undefined;
    // increasing across restarts without reading the inboxes back: microseconds of the wall clock
    this.#commandSeq = Math.max(this.#commandSeq + 1, Date.now() * 1000);
    const command: StoredCommand = { seq: this.#commandSeq, flowId, at, body };
    await this.#batch([{ type: 'put', key: `m!${flowId}!${pad(command.seq, 16)}`, value: JSON.stringify(command) }]);
    return command;
  }

  async listCommands(query: CommandQuery = {}): Promise<StoredCommand[]> {
    this.#assertOpen('listCommands');
    const prefix = query.flowId === undefined ? 'm!' : `m!${query.flowId}!`;
    const out: StoredCommand[] = [];
    for (const [key, raw] of await this.#scan(prefix, 'the command inboxes')) {
      const c = this.#parse<StoredCommand>(key.slice(2, key.lastIndexOf('!')), key, raw);
      if (query.after !== undefined && c.seq <= query.after) continue;
      if (query.kinds !== undefined && !query.kinds.includes(c.body.kind)) continue;
      if (query.owner !== undefined && this.#claims.get(c.flowId)?.owner !== query.owner) continue;
      out.push(c);
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Deletes ended flows last updated before `query.before`: those in the buckets of ended flows
   * (`x!success!`, …; a flow whose hook has not run is still in `x!open!`), with every key of theirs.
   */
  async purge(query: PurgeQuery): Promise<number> {
    this.#assertOpen('purge');
    let removed = 0;
    for (const bucket of query.status === undefined ? FINAL_BUCKETS : [query.status]) {
      const prefix = `x!${bucket}!`;
      // a few hundred flows a batch: the batch of a large purge stays small
      for (let after: string | undefined; ;) {
        const page = await this.#scan(prefix, `the ${bucket} flows`, { after, limit: 200 });
        if (page.length === 0) break;
        after = page[page.length - 1]![0].slice(prefix.length);
        const ops: BatchOp[] = [];
        for (const [key, raw] of page) {
          const h = this.#readable(raw);
          if (h === undefined || h.updatedAt >= query.before || isUnfinished(h) || h.status !== bucket) continue;
          const id = h.id;
          const inbox = await this.#scan(`m!${id}!`, `flow ${id}`);
          // a failed flow with a redrive recorded for an engine that has its classes is to run again
          if (h.status === 'fail' && inbox.some(([, v]) => v.includes('"kind":"redrive"'))) continue;
          ops.push({ type: 'del', key }, { type: 'del', key: `r!${h.requestId}` });
          for (const [k] of inbox) ops.push({ type: 'del', key: k });
          for (const [k] of await this.#scan(`j!${id}!`, `flow ${id}`, { values: false })) ops.push({ type: 'del', key: k });
          this.#claims.delete(id);
          removed++;
        }
        await this.#batch(ops);
      }
    }
    return removed;
  }

  /**
   * The entries under `prefix` (in key order, or `reverse`; only keys below `prefix + before` or
   * above `prefix + after`; at most `limit`); E_STORE_CORRUPT naming the range when LevelDB cannot read it.
   */
  async #scan(
    prefix: string,
    what: string,
    o: {
      reverse?: boolean;
      before?: string | undefined;
      after?: string | undefined;
      limit?: number;
      values?: false;
      snapshot?: LevelSnapshot | undefined;
    } = {},
  ): Promise<Array<[string, string]>> {
    try {
      return await this.#db
        .iterator({
          gt: o.after === undefined ? prefix : `${prefix}${o.after}`,
          lt: o.before === undefined ? `${prefix}${END}` : `${prefix}${o.before}`,
          reverse: o.reverse ?? false,
          ...(o.limit !== undefined && o.limit !== Infinity ? { limit: o.limit } : {}),
          ...(o.values === false ? { values: false } : {}),
          ...(o.snapshot === undefined ? {} : { snapshot: o.snapshot }),
        })
        .all();
    } catch (err) {
      throw readError(err, this.#where, `${what} (keys ${prefix}*)`);
    }
  }

  #parse<T>(flowId: string, key: string, raw: string): T {
    try {
      return JSON.parse(raw) as T;
    } catch (err) {
      return this.#corrupt(flowId, key, (err as Error).message);
    }
  }

  #corrupt(flowId: string, key: string, why: string): never {
    throw new VastflowError('E_STORE_CORRUPT', `flow ${flowId}: record ${key} in ${this.#where} is unreadable: ${why}`);
  }

  #assertOpen(op: string): void {
    if (this.#status !== 'open') throw this.#closedError(op);
  }

  #closedError(op: string): VastflowError {
    return new VastflowError('E_CLOSED', `store ${this.#where}: ${op} after the store was closed`);
  }
}
