import { Level } from 'level';
import { MemoryLevel } from 'memory-level';
import { VastflowError } from '../errors/vastflow-error.js';
import type { JsonObject } from '../model/json.js';
import { isUnfinished, type FlowChange, type FlowHeader, type FlowQuery, type StoredFlow } from './records.js';
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

// Record layout (one LevelDB key space, utf8 keys and JSON values):
//   f!<flow>                 FlowHeader             b!<flow>           Blueprint
//   s!<flow>!<stream>        StreamRecord           h!<flow>!<scope>!<key>   a headwaters value
//   r!<requestId>            flow id                q!<seq, 16 digits> flow id of a waiting flow
//   u!<flow>                 '' while unfinished
const END = '\xff';

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
    this.#status = 'open';
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

  write(changes: readonly FlowChange[]): Promise<void> {
    if (this.#status !== 'open') return Promise.reject(this.#closedError('write'));
    const ops: BatchOp[] = [];
    try {
      for (const c of changes) this.#ops(c, ops);
    } catch (err) {
      return Promise.reject(err);
    }
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
      if (c.create !== undefined || c.reopened) ops.push({ type: 'put', key: `u!${id}`, value: '' });
      else if (!isUnfinished(h)) ops.push({ type: 'del', key: `u!${id}` });
    }
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
    const out: FlowHeader[] = [];
    const entries = await this.#scan('f!', 'the flow headers', true);
    for (const [, raw] of entries) {
      let header: FlowHeader;
      try {
        header = JSON.parse(raw) as FlowHeader;
      } catch {
        continue; // an unreadable flow is reported by getFlow(id), not by hiding every other flow
      }
      if (query.status === undefined || header.status === query.status) out.push(header);
    }
    // ids begin with the creation time, so this is nearly sorted already
    out.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return query.limit === undefined ? out : out.slice(0, query.limit);
  }

  async listUnfinished(): Promise<string[]> {
    this.#assertOpen('listUnfinished');
    const entries = await this.#scan('u!', 'the unfinished-flow index');
    return entries.map(([key]) => key.slice(2));
  }

  async listWaiting(): Promise<string[]> {
    this.#assertOpen('listWaiting');
    const entries = await this.#scan('q!', 'the waiting queue');
    return entries.map(([, id]) => id);
  }

  /** Every entry under `prefix`; E_STORE_CORRUPT naming the range when LevelDB cannot read it. */
  async #scan(prefix: string, what: string, reverse = false): Promise<Array<[string, string]>> {
    try {
      return await this.#db.iterator({ gt: prefix, lt: `${prefix}${END}`, reverse }).all();
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
