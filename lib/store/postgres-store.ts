import { createHash } from 'node:crypto';
import pg from 'pg';
import { MAX_TIMER_MS, SystemClock } from '../clock/system-clock.js';
import { VastflowError } from '../errors/vastflow-error.js';
import type {
  ChangePage,
  Claim,
  ClaimQuery,
  CommandBody,
  CommandQuery,
  FlowChange,
  FlowHeader,
  FlowQuery,
  PurgeQuery,
  StoredCommand,
  StoredFlow,
  WorkerBeat,
  WorkerInfo,
  WriteResult,
} from './records.js';
import * as claims from './postgres/claim.js';
import { NamedPool, type Db } from './postgres/db.js';
import { describeTarget, isConnectionError, storeError } from './postgres/errors.js';
import { Listener } from './postgres/listener.js';
import { resolvePostgresStoreOptions, type PostgresStoreOptions, type ResolvedPostgresStoreOptions } from './postgres/options.js';
import { flowColumns, storedFlow, unfinishedIds } from './postgres/read.js';
import { migrate } from './postgres/schema.js';
import { applyChanges, mergeChanges } from './postgres/write.js';
import type { Store, StoreNotice, StoreOpenOptions, StoreStatus, StoreSupports } from './store.js';

export type { PostgresStoreOptions } from './postgres/options.js';

type Row = Record<string, unknown>;

/** The application_name of the store's connections: the change feed waits only for their transactions. */
const APP_NAME = 'vastflow';

/**
 * The store on PostgreSQL, for any number of engines on one database: flows are claimed with
 * leases, writes are fenced, and engines hear of each other's writes through LISTEN/NOTIFY. Its
 * tables live in one schema, created (or migrated) on the first open.
 * @example
 * const engine = await Engine.open({ store: new PostgresStore({ connectionString: 'postgres://app@db/orders' }) });
 */
export class PostgresStore implements Store {
  readonly supports: StoreSupports = { sync: true, persistent: true, concurrentWrites: true, shared: true, changes: true };
  readonly #options: ResolvedPostgresStoreOptions;
  /** Whether `connectTimeoutMs` was given: then it wins over the engine's `worker.connectTimeout`. */
  readonly #ownTimeout: boolean;
  /** The schema, quoted. */
  readonly #s: string;
  readonly #where: string;
  readonly #channel: string;
  #status: StoreStatus = 'new';
  /** When a claim last swept for flows whose owner has no heartbeat row (see claim()). */
  #sweptAt = -Infinity;
  #pool: pg.Pool | undefined;
  /** What the store queries through: its own pool, or the caller's with connections named first. */
  #db: Db | undefined;
  /** Backend pids of our pool's connections: the notices they send are our own. */
  readonly #pids = new Set<number>();
  readonly #listeners = new Set<Listener>();
  readonly #onPoolError = (): void => undefined;
  readonly #onPoolConnect = (client: pg.PoolClient): void => {
    // a connection the server or the network drops while the client is checked out reports an
    // error event too: the query in flight rejects with it (and is retried), the event must not crash
    client.on('error', () => undefined);
    const pid = (client as unknown as { processID?: number }).processID;
    if (pid !== undefined) this.#pids.add(pid);
  };

  /** @throws VastflowError E_INVALID_ARGUMENT for bad options (e.g. a schema that is no plain identifier). */
  constructor(options: PostgresStoreOptions = {}) {
    this.#options = resolvePostgresStoreOptions(options);
    this.#ownTimeout = options.connectTimeoutMs !== undefined;
    const schema = this.#options.schema;
    this.#s = `"${schema}"`;
    const target = this.#options.pool === undefined ? this.#options.connectionString : poolTarget(this.#options.pool);
    this.#where = describeTarget(target, schema);
    const channel = `vastflow_${schema}`;
    // a channel name is at most 63 bytes, as every identifier
    this.#channel = channel.length <= 63 ? channel : `vastflow_${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
  }

  get status(): StoreStatus {
    return this.#status;
  }

  /**
   * Connects, and creates (unless `create: false`) or migrates the schema. Waits for the server
   * `connectTimeoutMs` when given to the store, else what `options` say (Engine.open passes its
   * `worker.connectTimeout`), else 10 s.
   * @throws VastflowError E_STORE_UNAVAILABLE when the server cannot be reached in that time;
   * E_STORE_CORRUPT when the schema holds a newer store format than this vastflow reads;
   * E_NOT_FOUND when `create` is false and the schema holds no store.
   */
  async open(options?: StoreOpenOptions): Promise<void> {
    if (this.#status === 'open') return;
    this.#status = 'opening';
    const timeoutMs = this.#ownTimeout ? this.#options.connectTimeoutMs : (options?.connectTimeoutMs ?? this.#options.connectTimeoutMs);
    const gaveUp = new AbortController();
    try {
      // inside the try: pg throws at once on a connection string it cannot read
      const pool =
        this.#options.pool ??
        new pg.Pool({
          connectionString: this.#options.connectionString,
          connectionTimeoutMillis: timeoutMs,
          // a statement not answered in time fails as a lost connection would (a partition)
          // (pg waits with a timer: past the longest a timer can wait it would fire at once)
          ...(options?.queryTimeoutMs === undefined ? {} : { query_timeout: Math.min(options.queryTimeoutMs, MAX_TIMER_MS) }),
          allowExitOnIdle: true,
          application_name: APP_NAME,
        });
      pool.on('error', this.#onPoolError);
      pool.on('connect', this.#onPoolConnect);
      this.#pool = pool;
      // a pool the caller owns: its connections are named too, so that the change feed knows its writers
      const db = this.#options.pool === undefined ? pool : new NamedPool(pool, APP_NAME);
      this.#db = db;
      const connecting = db.connect();
      const timeout = new SystemClock().sleep(timeoutMs, gaveUp.signal).then(() => {
        throw new VastflowError('E_STORE_UNAVAILABLE', `store ${this.#where} cannot be opened: no connection within ${timeoutMs} ms`);
      });
      connecting.then((client) => (gaveUp.signal.aborted ? client.release() : undefined)).catch(() => undefined);
      const client = await Promise.race([connecting, timeout]);
      try {
        await migrate(client, this.#options.schema, this.#where, this.#options.create);
        client.release();
      } catch (err) {
        client.release(isConnectionError(err) ? (err as Error) : undefined);
        throw err;
      }
    } catch (err) {
      await this.#dropPool();
      this.#status = 'closed';
      if (err instanceof VastflowError) throw err;
      // unreachable, or refused: no such database, a failed login, a connection string pg cannot read
      const message = err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err);
      throw new VastflowError('E_STORE_UNAVAILABLE', `store ${this.#where} cannot be opened: ${message}`, { cause: err });
    } finally {
      gaveUp.abort();
    }
    this.#status = 'open';
  }

  /** Stops every watch and ends the pool, unless the caller owns it. */
  async close(): Promise<void> {
    if (this.#status === 'closed' || this.#status === 'new') {
      this.#status = 'closed';
      return;
    }
    this.#status = 'closing';
    await Promise.all([...this.#listeners].map((l) => l.stop()));
    this.#listeners.clear();
    await this.#dropPool();
    this.#status = 'closed';
  }

  async #dropPool(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    this.#db = undefined;
    if (pool === undefined) return;
    pool.off('connect', this.#onPoolConnect);
    if (this.#options.pool !== undefined) {
      pool.off('error', this.#onPoolError);
      return;
    }
    // our pool keeps its error listener: a connection still closing when the server ends it (a
    // DROP DATABASE, a restart) reports an error on the pool after end(), which must not crash
    await pool.end().catch(() => undefined);
  }

  /**
   * Applies a group in one transaction. A flow whose fence no longer holds, or whose create names
   * a requestId another flow has, is dropped whole and named in the result; the rest is applied.
   */
  async write(changes: readonly FlowChange[]): Promise<WriteResult> {
    const pool = this.#open('write');
    const flows = mergeChanges(changes);
    if (flows.length === 0) return { fenced: [], duplicates: [] };
    // a deadlock between two writers of the same flows (fenced writers racing) is retried
    for (let attempt = 1; ; attempt++) {
      try {
        return await applyChanges(pool, this.#s, flows, this.#channel, RUNNABLE);
      } catch (err) {
        if (attempt >= 3 || (err as { code?: string }).code !== '40P01') throw storeError(err, this.#where, 'write');
      }
    }
  }

  async getFlow(id: string): Promise<StoredFlow | undefined> {
    const rows = await this.#query<Row>('getFlow', `SELECT ${flowColumns(this.#s, 'f')} FROM ${this.#s}.flows f WHERE f.id = $1`, [id]);
    return rows[0] === undefined ? undefined : storedFlow(rows[0]);
  }

  /** The ended flows among `ids`, whole, in one statement (a primary-key lookup per id). */
  async getEnded(ids: readonly string[]): Promise<StoredFlow[]> {
    if (ids.length === 0) {
      this.#open('getEnded');
      return [];
    }
    const rows = await this.#query<Row>(
      'getEnded',
      `SELECT ${flowColumns(this.#s, 'f')} FROM ${this.#s}.flows f WHERE f.id = ANY($1::text[]) AND NOT f.unfinished`,
      [[...ids]],
    );
    return rows.map(storedFlow);
  }

  async findFlowId(requestId: string): Promise<string | undefined> {
    const rows = await this.#query<{ id: string }>('findFlowId', `SELECT id FROM ${this.#s}.flows WHERE request_id = $1`, [requestId]);
    return rows[0]?.id;
  }

  /** Newest first: by id (the engine's ids begin with their creation time), a page after `before`. */
  async listFlows(query: FlowQuery = {}): Promise<FlowHeader[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    if (query.status !== undefined) where.push(`status = $${params.push(query.status)}`);
    if (query.before !== undefined) where.push(`id < $${params.push(query.before)}`);
    const limit = query.limit === undefined ? '' : ` LIMIT $${params.push(query.limit)}`;
    const filter = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
    const rows = await this.#query<{ header: FlowHeader }>('listFlows', `SELECT header FROM ${this.#s}.flows${filter} ORDER BY id DESC${limit}`, params);
    return rows.map((r) => r.header);
  }

  async listUnfinished(): Promise<string[]> {
    const rows = await this.#query<{ id: string }>('listUnfinished', `${unfinishedIds(this.#s)} ORDER BY id`);
    return rows.map((r) => r.id);
  }

  async listWaiting(): Promise<string[]> {
    const rows = await this.#query<{ id: string }>('listWaiting', `SELECT id FROM ${this.#s}.flows WHERE status = 'waiting' ORDER BY seq, id`);
    return rows.map((r) => r.id);
  }

  listDue(now: number, limit: number): Promise<string[]> {
    return this.#run('listDue', (pool) => claims.listDue(pool, this.#s, now, limit));
  }

  /**
   * Claims due flows nobody holds, the flows of engines whose lease ran out, then waiting flows.
   * Every {@link SWEEP_MS} (and at the first claim) it also looks for flows whose owner has no
   * heartbeat row at all.
   */
  claim(query: ClaimQuery): Promise<Claim[]> {
    const sweep = Date.now() - this.#sweptAt >= SWEEP_MS;
    if (sweep) this.#sweptAt = Date.now();
    return this.#run('claim', (pool) => claims.claim(pool, this.#s, query, sweep));
  }

  async release(owner: string, flowIds: readonly string[]): Promise<void> {
    if (flowIds.length === 0) return void this.#open('release');
    await this.#query(
      'release',
      `WITH r AS (UPDATE ${this.#s}.flows SET owner = NULL WHERE id = ANY($2::text[]) AND owner = $1 RETURNING 1)
       SELECT pg_notify($3, $4) FROM (SELECT 1 FROM r LIMIT 1) AS any_released`,
      [owner, [...flowIds], this.#channel, RUNNABLE],
    );
  }

  /**
   * A held flow is lost when its row names another owner (or none). A held flow with no row yet is
   * not: the engine owns the flows it creates before their create commits, and a heartbeat that
   * runs meanwhile must not take them from it (a flow that never lands is fenced at its first write).
   */
  async heartbeat(beat: WorkerBeat): Promise<{ lost: string[] }> {
    const rows = await this.#query<{ id: string }>(
      'heartbeat',
      `WITH w AS (
         INSERT INTO ${this.#s}.workers (id, heartbeat_at, expires_at, running) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at, running = excluded.running),
       -- engines dead for a lease and holding nothing: claims need not look for their flows any more
       gone AS (DELETE FROM ${this.#s}.workers d WHERE d.expires_at < $2 - $6
         AND NOT EXISTS (SELECT 1 FROM ${this.#s}.flows f WHERE f.owner = d.id AND f.unfinished))
       SELECT h.id FROM unnest($5::text[]) AS h(id) JOIN ${this.#s}.flows f ON f.id = h.id
       WHERE f.owner IS DISTINCT FROM $1`,
      [beat.id, beat.now, beat.now + beat.leaseMs, beat.running, [...beat.held], beat.leaseMs],
    );
    return { lost: rows.map((r) => r.id) };
  }

  async workers(now: number): Promise<WorkerInfo[]> {
    const rows = await this.#query<{ id: string; heartbeat_at: string; running: number }>(
      'workers',
      `SELECT id, heartbeat_at, running FROM ${this.#s}.workers WHERE expires_at >= $1 ORDER BY id`,
      [now],
    );
    return rows.map((r) => ({ id: r.id, heartbeatAt: Number(r.heartbeat_at), running: r.running }));
  }

  async leave(owner: string): Promise<void> {
    await this.#query(
      'leave',
      `WITH w AS (DELETE FROM ${this.#s}.workers WHERE id = $1),
            r AS (UPDATE ${this.#s}.flows SET owner = NULL WHERE owner = $1 AND unfinished RETURNING 1)
       SELECT pg_notify($2, $3) FROM (SELECT 1 FROM r LIMIT 1) AS any_released`,
      [owner, this.#channel, RUNNABLE],
    );
  }

  async addCommand(flowId: string, body: CommandBody, at: number): Promise<StoredCommand | undefined> {
    const json = JSON.stringify(body);
    const rows = await this.#query<{ seq: string }>(
      'addCommand',
      // the flow's row is share-locked as a foreign key's would be: a purge deleting the flow meanwhile
      // (FOR UPDATE) is waited for, and then there is no flow; a purge that comes after skips it
      `WITH c AS (
         INSERT INTO ${this.#s}.commands (flow_id, at, body)
         SELECT f.id, $2, $3::json FROM ${this.#s}.flows f WHERE f.id = $1 FOR KEY SHARE
         RETURNING seq)
       SELECT c.seq, pg_notify($4, $5) FROM c`,
      [flowId, at, json, this.#channel, JSON.stringify({ kind: 'command', flowId } satisfies StoreNotice)],
    );
    const row = rows[0];
    return row === undefined ? undefined : { seq: Number(row.seq), flowId, at, body: JSON.parse(json) as CommandBody };
  }

  async listCommands(query: CommandQuery = {}): Promise<StoredCommand[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    let join = '';
    if (query.owner !== undefined) join = ` JOIN ${this.#s}.flows f ON f.id = c.flow_id AND f.unfinished AND f.owner = $${params.push(query.owner)}`;
    if (query.flowId !== undefined) where.push(`c.flow_id = $${params.push(query.flowId)}`);
    if (query.after !== undefined) where.push(`c.seq > $${params.push(query.after)}`);
    // by the JSON's text, not body->>'kind': PostgreSQL refuses to take apart a json value holding a
    // lone surrogate's escape (a message payload of text cut inside a pair), which would fail the
    // whole read; the text matches a kind nested in a payload too, so the kinds are checked again below
    if (query.kinds !== undefined) where.push(`c.body::text LIKE ANY($${params.push(query.kinds.map((k) => `%"kind":${JSON.stringify(k)}%`))}::text[])`);
    const filter = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
    const rows = await this.#query<{ seq: string; flow_id: string; at: string; body: CommandBody }>(
      'listCommands',
      `SELECT c.seq, c.flow_id, c.at, c.body FROM ${this.#s}.commands c${join}${filter} ORDER BY c.seq`,
      params,
    );
    const kinds = query.kinds;
    return rows
      .filter((r) => kinds === undefined || kinds.includes(r.body.kind))
      .map((r) => ({ seq: Number(r.seq), flowId: r.flow_id, at: Number(r.at), body: r.body }));
  }

  /**
   * Deletes ended flows (not `unfinished`: finished, their hook run) last updated before
   * `query.before`, from every table (the schema has no foreign keys), a thousand flows a
   * transaction; a flow another transaction is writing is skipped (it is being redriven).
   */
  async purge(query: PurgeQuery): Promise<number> {
    const s = this.#s;
    let removed = 0;
    for (;;) {
      const params: unknown[] = [query.before];
      const status = query.status === undefined ? '' : ` AND status = $${params.push(query.status)}`;
      const rows = await this.#query<{ n: string }>(
        'purge',
        `WITH gone AS (
           DELETE FROM ${s}.flows WHERE id IN (
             SELECT id FROM ${s}.flows f WHERE NOT unfinished AND updated_at < $1${status}
               -- a failed flow with a redrive recorded for an engine that has its classes is to run again
               AND NOT (status = 'fail' AND EXISTS (SELECT 1 FROM ${s}.commands c WHERE c.flow_id = f.id AND c.body::text LIKE '%"kind":"redrive"%'))
             LIMIT 1000 FOR UPDATE SKIP LOCKED)
           RETURNING id),
         st AS (DELETE FROM ${s}.streams WHERE flow_id IN (SELECT id FROM gone)),
         hw AS (DELETE FROM ${s}.headwaters WHERE flow_id IN (SELECT id FROM gone)),
         cm AS (DELETE FROM ${s}.commands WHERE flow_id IN (SELECT id FROM gone)),
         ch AS (DELETE FROM ${s}.changes WHERE flow_id IN (SELECT id FROM gone))
         SELECT count(*) AS n FROM gone`,
        params,
      );
      const n = Number(rows[0]?.n ?? 0);
      removed += n;
      if (n < 1000) return removed;
    }
  }

  /**
   * The change feed in commit order: by transaction, then by change. A change of a transaction
   * that may still be followed by an older one's commit is held back until that one is over, so a
   * cursor never passes a change that lands later. The cursor is opaque (`<xid>:<seq>`).
   */
  async changes(cursor: string | undefined, limit: number): Promise<ChangePage> {
    const [xid, seq] = parseCursor(cursor);
    const rows = await this.#query<{ id: string; status: FlowHeader['status']; updated_at: string; change_xid: string; change_seq: string }>(
      'changes',
      `SELECT flow_id AS id, status, updated_at, change_xid::text AS change_xid, change_seq FROM ${this.#s}.changes
       WHERE (change_xid, change_seq) > ($1::xid8, $2::bigint)
         AND change_xid < COALESCE((
           -- the oldest transaction of a vastflow store still running: a change it makes may commit
           -- after later ones; other applications' transactions never hold the feed back
           SELECT min(x) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
           WHERE (x::text::bigint % 4294967296) IN (
             SELECT backend_xid::text::bigint FROM pg_stat_activity
             WHERE application_name = $4 AND datname = current_database() AND backend_xid IS NOT NULL)
         ), pg_snapshot_xmax(pg_current_snapshot()))
       ORDER BY change_xid, change_seq LIMIT $3`,
      [xid, seq, limit, APP_NAME],
    );
    const last = rows[rows.length - 1];
    return {
      cursor: last === undefined ? (cursor ?? '0') : `${last.change_xid}:${last.change_seq}`,
      entries: rows.map((r) => ({ flowId: r.id, status: r.status, updatedAt: Number(r.updated_at) })),
    };
  }

  /**
   * LISTENs on the store's channel on a connection of its own (connected again when it drops) and
   * tells `onNotice` of the notices other stores send; resolves once it listens.
   */
  async watch(onNotice: (notice: StoreNotice) => void): Promise<() => Promise<void>> {
    this.#open('watch');
    const options = (this.#pool as unknown as { options: pg.ClientConfig }).options;
    const listener = new Listener(
      () => new pg.Client({ ...options }),
      this.#channel,
      (notice, pid) => {
        if (!this.#pids.has(pid)) onNotice(notice);
      },
    );
    try {
      await listener.start();
    } catch (err) {
      throw storeError(err, this.#where, 'watch');
    }
    this.#listeners.add(listener);
    return async () => {
      this.#listeners.delete(listener);
      await listener.stop();
    };
  }

  async #query<R extends pg.QueryResultRow>(op: string, text: string, params: unknown[] = []): Promise<R[]> {
    const pool = this.#open(op);
    try {
      return (await pool.query<R>(text, params)).rows;
    } catch (err) {
      throw storeError(err, this.#where, op);
    }
  }

  async #run<T>(op: string, body: (db: Db) => Promise<T>): Promise<T> {
    const pool = this.#open(op);
    try {
      return await body(pool);
    } catch (err) {
      throw storeError(err, this.#where, op);
    }
  }

  #open(op: string): Db {
    if (this.#status !== 'open' || this.#db === undefined) {
      throw new VastflowError('E_CLOSED', `store ${this.#where}: ${op} after the store was closed`);
    }
    return this.#db;
  }
}

/** How often claims also look for flows whose owner has no heartbeat row (ms). */
const SWEEP_MS = 5000;

const RUNNABLE = JSON.stringify({ kind: 'runnable' } satisfies StoreNotice);

function parseCursor(cursor: string | undefined): [string, string] {
  const m = cursor === undefined ? null : /^(\d+):(\d+)$/.exec(cursor);
  if (m !== null) return [m[1]!, m[2]!];
  if (cursor === undefined || cursor === '0' || cursor === '') return ['0', '0'];
  throw new VastflowError('E_INVALID_ARGUMENT', `PostgresStore.changes: cursor ${JSON.stringify(cursor)} is not one that changes() returned`);
}

/** The connection string or host of a caller's pool, for messages (never its password). */
function poolTarget(pool: pg.Pool): string | undefined {
  const o = (pool as unknown as { options?: pg.PoolConfig }).options;
  if (o === undefined) return undefined;
  if (typeof o.connectionString === 'string') return o.connectionString;
  if (typeof o.host === 'string') return `postgres://${o.user ?? ''}${o.user ? '@' : ''}${o.host}:${o.port ?? 5432}/${o.database ?? ''}`;
  return undefined;
}
