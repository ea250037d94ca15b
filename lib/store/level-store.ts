import { Level } from 'level';
import { MemoryLevel } from 'memory-level';
import { VastflowError } from '../errors/vastflow-error.js';
import type { JsonObject } from '../model/json.js';
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
  type PurgeQuery,
  type StoredCommand,
  type StoredFlow,
  type WorkerBeat,
  type WorkerInfo,
  type WriteResult,
} from './records.js';
import { deferred, type Deferred } from '../util/deferred.js';
import { inconsistency } from './consistency.js';
import { openError, readError, writeFailure } from './level-errors.js';
import type { Store, StoreStatus, StoreSupports } from './store.js';

type BatchOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/** The part of abstract-level that LevelStore uses: `level` and `memory-level` both provide it. */
export interface LevelDatabase {
  readonly status: string;
  open(): Promise<void>;
  close(): Promise<void>;
  get(key: string): Promise<string | undefined>;
  getMany?(keys: string[]): Promise<Array<string | undefined>>;
  batch(ops: BatchOp[], options?: { sync?: boolean }): Promise<void>;
  iterator(options: { gt?: string; lt?: string; reverse?: boolean; limit?: number }): {
    all(): Promise<Array<[string, string]>>;
  };
}

/** Options of a {@link LevelStore}. */
export interface LevelStoreOptions {
  /** fsync every write before it resolves. @default false */
  sync?: boolean;
}

// Record layout (one LevelDB key space, utf8 keys and JSON values), format 2:
//   f!<flow>                 FlowHeader             b!<flow>           Blueprint
//   s!<flow>!<stream>        StreamRecord           h!<flow>!<scope>!<key>   a headwaters value
//   r!<requestId>            flow id                q!<seq, 16 digits> flow id of a waiting flow
//   x!<bucket>!<flow>        ''                     bucket: `open` while unfinished, else its status
//   m!<flow>!<seq, 16 digits> StoredCommand         v!format           '2'
// Format 1 (before the store knew commands and listed by status) had u!<flow> for x!open!<flow>
// and no x! keys of ended flows: open() migrates it.
const END = '\xff';
const FORMAT = 2;
const FINAL_BUCKETS = ['success', 'fail', 'cancelled'] as const;
const EMPTY_RESULT: WriteResult = Object.freeze({ fenced: Object.freeze([]) as unknown as string[], duplicates: Object.freeze([]) as unknown as string[] });

const bucketOf = (h: FlowHeader): string => (isUnfinished(h) ? 'open' : h.status);

const pad = (n: number, width: number): string => String(Math.trunc(n)).padStart(width, '0');

/**
 * The store on any abstract-level database: LevelDB on disk (`level`, the default) or in memory
 * (`memory-level`, `store: 'memory'`).
 * @example
 * const engine = await Engine.open({ store: LevelStore.at('./data/flows', { sync: true }) });
 */
export class LevelStore implements Store {
  readonly supports: StoreSupports;
  readonly #db: LevelDatabase;
  readonly #sync: boolean;
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

  /** A store on an abstract-level database opened with utf8 keys and values. */
  constructor(db: LevelDatabase, options: LevelStoreOptions & { where?: string; persistent?: boolean } = {}) {
    this.#db = db;
    this.#sync = options.sync ?? false;
    this.#where = options.where ?? 'database';
    const persistent = options.persistent ?? true;
    // on disk, concurrent batches share LevelDB's log write; in memory they would only be smaller
    this.supports = { sync: persistent, persistent, concurrentWrites: persistent };
  }

  /** A store on a LevelDB directory. */
  static at(path: string, options: LevelStoreOptions = {}): LevelStore {
    const db = new Level<string, string>(path, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    return new LevelStore(db as unknown as LevelDatabase, { ...options, where: path, persistent: true });
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

  /** Brings a store of an earlier format to this one, in one batch; refuses a later format. */
  async #upgrade(): Promise<void> {
    let raw: string | undefined;
    try {
      raw = await this.#db.get('v!format');
    } catch {
      // a damaged table: the flows' own reads report it, each with its coded error (and repair)
      return;
    }
    const format = raw === undefined ? undefined : Number(raw);
    if (format === FORMAT) return;
    if (format !== undefined && !(format < FORMAT)) {
      throw new VastflowError(
        'E_STORE_CORRUPT',
        `store ${this.#where} has format ${raw}, written by a later version of vastflow than this one (format ${FORMAT}): open it with that version`,
      );
    }
    const ops: BatchOp[] = [{ type: 'put', key: 'v!format', value: String(FORMAT) }];
    for (const [key] of await this.#scan('u!', 'the unfinished-flow index of format 1')) ops.push({ type: 'del', key });
    for (const [, value] of await this.#scan('f!', 'the flow headers')) {
      let h: FlowHeader;
      try {
        h = JSON.parse(value) as FlowHeader;
      } catch {
        continue; // getFlow(id) reports it
      }
      ops.push({ type: 'put', key: `x!${bucketOf(h)}!${h.id}`, value: '' });
    }
    try {
      await this.#db.batch(ops, { sync: true });
    } catch (err) {
      throw writeFailure(err, this.#where);
    }
  }

  async close(): Promise<void> {
    if (this.#status === 'closed' || this.#status === 'new') {
      this.#status = 'closed';
      return;
    }
    this.#status = 'closing';
    await this.#db.close();
    this.#status = 'closed';
  }

  write(changes: readonly FlowChange[]): Promise<WriteResult> {
    if (this.#status !== 'open') return Promise.reject(this.#closedError('write'));
    const ops: BatchOp[] = [];
    try {
      for (const c of changes) this.#ops(c, ops);
    } catch (err) {
      return Promise.reject(err);
    }
    for (const c of changes) if (c.create !== undefined && c.fence !== undefined) this.#claims.set(c.flowId, { ...c.fence });
    return this.#batch(ops).then(() => EMPTY_RESULT);
  }

  /** Writes a batch after every batch before it has settled; the first failure is final. */
  #batch(ops: BatchOp[]): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (ops.length === 0) return Promise.resolve();
    // a write is acknowledged once every write issued before it has settled: LevelDB logs them in
    // issue order but may report them out of it, and one logged after a failed write is lost
    const before = this.#settled;
    const written = this.#db.batch(ops, this.#sync ? { sync: true } : undefined).then(
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

  #ops(c: FlowChange, ops: BatchOp[]): void {
    const id = c.flowId;
    if (c.create !== undefined) {
      const h = c.header!;
      ops.push({ type: 'put', key: `b!${id}`, value: JSON.stringify(c.create.blueprint) });
      ops.push({ type: 'put', key: `r!${h.requestId}`, value: id });
    }
    const h = c.header;
    if (h !== undefined) {
      ops.push({ type: 'put', key: `f!${id}`, value: JSON.stringify(h) });
      // the indexes change only on the transitions that move a flow in or out of them
      if (h.status === 'waiting') ops.push({ type: 'put', key: `q!${pad(h.seq, 16)}`, value: id });
      else if (c.claimed) ops.push({ type: 'del', key: `q!${pad(h.seq, 16)}` });
      if (c.reopened) for (const b of FINAL_BUCKETS) ops.push({ type: 'del', key: `x!${b}!${id}` });
      if (c.create !== undefined || c.reopened) ops.push({ type: 'put', key: `x!${bucketOf(h)}!${id}`, value: '' });
      else if (!isUnfinished(h)) ops.push({ type: 'del', key: `x!open!${id}` }, { type: 'put', key: `x!${h.status}!${id}`, value: '' });
    }
    if (c.consumed !== undefined) for (const seq of c.consumed) ops.push({ type: 'del', key: `m!${id}!${pad(seq, 16)}` });
    if (c.streams !== undefined) {
      for (const sid of Object.keys(c.streams)) {
        ops.push({ type: 'put', key: `s!${id}!${sid}`, value: JSON.stringify(c.streams[sid]) });
      }
    }
    if (c.headwaters !== undefined) {
      for (const scope of Object.keys(c.headwaters)) {
        const delta = c.headwaters[scope]!;
        const prefix = `h!${id}!${scope}!`;
        for (const k of Object.keys(delta.set)) ops.push({ type: 'put', key: prefix + k, value: JSON.stringify(delta.set[k]) });
        for (const k of delta.del) ops.push({ type: 'del', key: prefix + k });
      }
    }
  }

  async getFlow(id: string): Promise<StoredFlow | undefined> {
    this.#assertOpen('getFlow');
    const [header, blueprint, streams, hw] = await Promise.all([
      this.#db.get(`f!${id}`),
      this.#db.get(`b!${id}`),
      this.#db.iterator({ gt: `s!${id}!`, lt: `s!${id}!${END}` }).all(),
      this.#db.iterator({ gt: `h!${id}!`, lt: `h!${id}!${END}` }).all(),
    ]).catch((err: unknown) => {
      throw readError(err, this.#where, `flow ${id}`);
    });
    if (header === undefined) return undefined;
    const flow: StoredFlow = {
      header: this.#parse(id, `f!${id}`, header),
      blueprint: blueprint === undefined ? this.#corrupt(id, `b!${id}`, 'missing') : this.#parse(id, `b!${id}`, blueprint),
      streams: {},
      headwaters: {},
    };
    const sPrefix = `s!${id}!`.length;
    for (const [key, value] of streams) flow.streams[key.slice(sPrefix)] = this.#parse(id, key, value);
    const hPrefix = `h!${id}!`.length;
    for (const [key, value] of hw) {
      const rest = key.slice(hPrefix);
      const cut = rest.indexOf('!');
      const scope = rest.slice(0, cut);
      const scoped: JsonObject = (flow.headwaters[scope] ??= {});
      scoped[rest.slice(cut + 1)] = this.#parse(id, key, value);
    }
    // LevelDB skips a damaged stretch of its log without a word: what is left must still agree
    const why = inconsistency(flow);
    if (why !== undefined) {
      throw new VastflowError('E_STORE_CORRUPT', `flow ${id}: its records in ${this.#where} disagree (part of them was lost): ${why}`);
    }
    return flow;
  }

  findFlowId(requestId: string): Promise<string | undefined> {
    if (this.#status !== 'open') return Promise.reject(this.#closedError('findFlowId'));
    if (this.#db.getMany === undefined) {
      return this.#db.get(`r!${requestId}`).catch((err: unknown) => Promise.reject(readError(err, this.#where, `the requestId index (r!${requestId})`)));
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

  #lookupAll(): void {
    const batch = this.#lookups;
    this.#lookups = new Map();
    const ids = [...batch.keys()];
    this.#db.getMany!(ids.map((r) => `r!${r}`)).then(
      (values) => ids.forEach((r, i) => batch.get(r)!.resolve(values[i])),
      (err: unknown) => {
        const mapped = readError(err, this.#where, `the requestId index (r!${ids.length === 1 ? ids[0] : '…'})`);
        batch.forEach((d) => d.reject(mapped));
      },
    );
  }

  async listFlows(query: FlowQuery = {}): Promise<FlowHeader[]> {
    this.#assertOpen('listFlows');
    const limit = query.limit ?? Infinity;
    const before = query.before;
    if (query.status === undefined) {
      // headers sort by id: read back from `before`, only as many as the page needs
      const entries = await this.#scan('f!', 'the flow headers', true, before, limit);
      return entries.map(([, raw]) => this.#header(raw)).filter((h): h is FlowHeader => h !== undefined);
    }
    const status = query.status;
    // ended flows are in their status's bucket; running and waiting ones, and ended ones whose hook
    // has not run yet, in `open` (few: at most the flows in flight)
    const ids = (await this.#scan('x!open!', 'the unfinished-flow index', true, before)).map(([key]) => key.slice(7));
    let inBucket: string[] = [];
    if (status === 'success' || status === 'fail' || status === 'cancelled') {
      const prefix = `x!${status}!`;
      inBucket = (await this.#scan(prefix, `the ${status} index`, true, before, limit)).map(([key]) => key.slice(prefix.length));
    }
    const headers = await this.#headers([...ids, ...inBucket]);
    const out = headers.filter((h) => h.status === status);
    out.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return out.length > limit ? out.slice(0, limit) : out;
  }

  /** The readable headers of these flows (an unreadable one is reported by getFlow(id)). */
  async #headers(ids: string[]): Promise<FlowHeader[]> {
    if (ids.length === 0) return [];
    const keys = ids.map((id) => `f!${id}`);
    const raws = await (this.#db.getMany !== undefined ? this.#db.getMany(keys) : Promise.all(keys.map((k) => this.#db.get(k)))).catch((err: unknown) =>
      Promise.reject(readError(err, this.#where, 'the flow headers')),
    );
    const out: FlowHeader[] = [];
    for (const raw of raws) {
      const h = raw === undefined ? undefined : this.#header(raw);
      if (h !== undefined) out.push(h);
    }
    return out;
  }

  #header(raw: string): FlowHeader | undefined {
    try {
      return JSON.parse(raw) as FlowHeader;
    } catch {
      return undefined; // an unreadable flow is reported by getFlow(id), not by hiding every other flow
    }
  }

  async listUnfinished(): Promise<string[]> {
    this.#assertOpen('listUnfinished');
    const entries = await this.#scan('x!open!', 'the unfinished-flow index');
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
    const headers = await this.#headers(await this.listUnfinished());
    const due = headers.filter((h) => h.status !== 'waiting' && (h.dueAt === undefined || h.dueAt <= now) && this.#free(h.id, now, owner));
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
      candidates = (await this.#headers([...query.ids])).filter((h) => isUnfinished(h) && this.#free(h.id, query.now, query.owner));
    } else {
      candidates = await this.#due(query.now, Infinity, query.owner);
      const waiting = await this.#headers(await this.listWaiting());
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
    const raw = await this.#db.get(`b!${flowId}`).catch((err: unknown) => Promise.reject(readError(err, this.#where, `flow ${flowId}`)));
    if (raw === undefined) return false;
    const bp = this.#parse<{ streams: []; atlantic?: string }>(flowId, `b!${flowId}`, raw);
    return blueprintClasses(bp).every((c) => classes.has(c));
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
    const exists = await this.#db.get(`f!${flowId}`).catch((err: unknown) => Promise.reject(readError(err, this.#where, `flow ${flowId}`)));
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
      const ids = (await this.#scan(prefix, `the ${bucket} index`)).map(([key]) => key.slice(prefix.length));
      // a few hundred flows a batch: the batch of a large purge stays small
      for (let i = 0; i < ids.length; i += 200) {
        const headers = await this.#headers(ids.slice(i, i + 200));
        const ops: BatchOp[] = [];
        for (const h of headers) {
          if (h.updatedAt >= query.before || isUnfinished(h) || h.status !== bucket) continue;
          const id = h.id;
          ops.push(
            { type: 'del', key: `f!${id}` },
            { type: 'del', key: `b!${id}` },
            { type: 'del', key: `r!${h.requestId}` },
            { type: 'del', key: `${prefix}${id}` },
          );
          for (const p of [`s!${id}!`, `h!${id}!`, `m!${id}!`]) for (const [key] of await this.#scan(p, `flow ${id}`)) ops.push({ type: 'del', key });
          this.#claims.delete(id);
          removed++;
        }
        await this.#batch(ops);
      }
    }
    return removed;
  }

  /** Every entry under `prefix`; E_STORE_CORRUPT naming the range when LevelDB cannot read it. */
  async #scan(prefix: string, what: string, reverse = false, before?: string, limit?: number): Promise<Array<[string, string]>> {
    try {
      const lt = before === undefined ? `${prefix}${END}` : `${prefix}${before}`;
      return await this.#db.iterator({ gt: prefix, lt, reverse, ...(limit !== undefined && limit !== Infinity ? { limit } : {}) }).all();
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
