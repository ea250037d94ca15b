import { expect } from 'chai';
import pg from 'pg';
import { PostgresStore } from '../../lib/store/postgres-store.js';
import type { FlowChange } from '../../lib/store/records.js';
import type { StoreNotice } from '../../lib/store/store.js';
import { storeConformance } from './conformance/index.js';
import { created, header, rec } from './conformance/types.js';
import { PG_URL, freshSchema, describePg } from '../helpers/postgres.js';

const URL = PG_URL;

/** Watches `store`: the notices it heard, a promise of the next one, and how to stop. */
async function watching(store: PostgresStore): Promise<{ notices: StoreNotice[]; next: () => Promise<void>; stop: () => Promise<void> }> {
  const notices: StoreNotice[] = [];
  let heard: () => void = () => undefined;
  const stop = await store.watch((n) => {
    notices.push(n);
    heard();
  });
  return { notices, next: () => new Promise<void>((resolve) => (heard = resolve)), stop };
}

describePg('PostgresStore (store conformance)', () =>
  storeConformance({
    name: 'PostgresStore',
    persistent: true,
    shared: true,
    changes: true,
    factory: async () => {
      const { schema, drop } = freshSchema();
      const store = new PostgresStore({ connectionString: URL, schema });
      await store.open();
      return { store, reopen: () => new PostgresStore({ connectionString: URL, schema }), cleanup: drop };
    },
  }),
);

const errorOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describePg('PostgresStore on PostgreSQL', () => {
  let schema: string;
  let drop: () => Promise<void>;
  const opened: PostgresStore[] = [];
  const open = async (): Promise<PostgresStore> => {
    const store = new PostgresStore({ connectionString: URL, schema });
    opened.push(store);
    await store.open();
    return store;
  };

  beforeEach(() => {
    ({ schema, drop } = freshSchema());
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await drop();
  });

  it('checks its options: a schema must be a plain lowercase identifier', () => {
    for (const bad of ['Vastflow', 'a-b', '1abc', 'x'.repeat(64), 'a"; DROP SCHEMA public; --']) {
      expect(() => new PostgresStore({ schema: bad }), bad)
        .to.throw()
        .with.property('code', 'E_INVALID_ARGUMENT');
    }
    expect(() => new PostgresStore({ conectionString: URL } as never)).to.throw(/unknown option conectionString/);
    expect(new PostgresStore({ schema: 'ok_1' }).supports).to.deep.equal({ sync: true, persistent: true, concurrentWrites: true, shared: true, changes: true });
  });

  it('opens a fresh schema from 4 stores at once', async () => {
    const stores = await Promise.all([open(), open(), open(), open()]);
    for (const s of stores) expect(s.status).to.equal('open');
    await stores[0]!.write([created('a')]);
    expect(await stores[3]!.findFlowId('req-a')).to.equal('a');
  });

  it('with create: false, refuses a schema that holds no store with E_NOT_FOUND and creates nothing; opens one that exists', async () => {
    const exists = async (): Promise<boolean> => {
      const client = new pg.Client({ connectionString: URL });
      await client.connect();
      try {
        return (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;
      } finally {
        await client.end();
      }
    };
    const missing = new PostgresStore({ connectionString: URL, schema, create: false });
    const err = await errorOf(missing.open());
    expect(err).to.have.property('code', 'E_NOT_FOUND');
    expect((err as Error).message).to.include(`schema ${schema}: the schema does not exist`);
    expect(missing.status).to.equal('closed');
    expect(await exists()).to.equal(false);
    await (await open()).write([created('a')]);
    const found = new PostgresStore({ connectionString: URL, schema, create: false });
    opened.push(found);
    await found.open();
    expect(await found.findFlowId('req-a')).to.equal('a');
  });

  it('refuses a schema of a newer store format with E_STORE_CORRUPT naming both formats', async () => {
    const store = await open();
    await store.close();
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    await client.query(`UPDATE "${schema}".meta SET value = '99' WHERE key = 'format'`);
    await client.end();
    const err = await errorOf(new PostgresStore({ connectionString: URL, schema }).open());
    expect(err).to.have.property('code', 'E_STORE_CORRUPT');
    expect((err as Error).message).to.match(/format 99.*format 3/);
  });

  it('migrates a format-1 schema on open: its flows stay, and claims and listings use the format-3 indexes', async () => {
    const store = await open();
    await store.write([created('f1'), created('w1', { status: 'waiting', seq: 1 })]);
    await store.close();
    // the schema as format 1 left it: the due index over every unfinished flow, the owner index over
    // all, the listing indexes by creation time, and an index of unfinished flows
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    const s = `"${schema}"`;
    await client.query(`DROP INDEX ${s}.flows_free; DROP INDEX ${s}.flows_owner; DROP INDEX ${s}.flows_status`);
    await client.query(`CREATE INDEX flows_unfinished ON ${s}.flows (id) WHERE unfinished`);
    await client.query(`CREATE INDEX flows_created ON ${s}.flows (created_at, id)`);
    await client.query(`CREATE INDEX flows_status ON ${s}.flows (status, created_at, id)`);
    await client.query(`CREATE INDEX flows_due ON ${s}.flows ((COALESCE(due_at, -9223372036854775808)), id) WHERE unfinished AND status <> 'waiting'`);
    await client.query(`CREATE INDEX flows_owner ON ${s}.flows (owner) WHERE owner IS NOT NULL`);
    await client.query(`UPDATE ${s}.meta SET value = '1' WHERE key = 'format'`);
    const reopened = await open();
    const { rows: meta } = await client.query<{ value: string }>(`SELECT value FROM ${s}.meta WHERE key = 'format'`);
    const { rows: indexes } = await client.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'flows' ORDER BY indexname`,
      [schema],
    );
    await client.end();
    expect(meta[0]!.value).to.equal('3');
    const names = indexes.map((i) => i.indexname);
    expect(names).to.not.include('flows_created').and.not.include('flows_unfinished');
    expect(indexes.find((i) => i.indexname === 'flows_status')!.indexdef).to.match(/\(status, id\)/);
    expect((await reopened.listUnfinished()).sort()).to.deep.equal(['f1', 'w1']);
    expect(names).to.include('flows_free').and.not.include('flows_due');
    expect(indexes.find((i) => i.indexname === 'flows_owner')!.indexdef).to.match(/WHERE \(\(owner IS NOT NULL\) AND unfinished\)/);
    expect((await reopened.getFlow('f1'))?.header.status).to.equal('running');
    await reopened.heartbeat({ id: 'A', now: 1000, leaseMs: 10_000, running: 0, held: [] });
    expect((await reopened.claim({ owner: 'A', now: 1000, limit: 10 })).map((c) => c.flowId)).to.deep.equal(['f1', 'w1']);
  });

  it('takes over the flows of an engine whose lease ran out, and of an owner that has no heartbeat row at all', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    await a.write([created('dead1'), created('dead2', { status: 'waiting', seq: 1 }), created('ghost')]);
    await a.heartbeat({ id: 'D', now: 1000, leaseMs: 100, running: 2, held: [] });
    expect((await a.claim({ owner: 'D', now: 1000, limit: 2 })).map((c) => c.flowId)).to.deep.equal(['dead1', 'ghost']);
    expect((await a.claim({ owner: 'D', now: 1000, limit: 2 })).map((c) => c.flowId)).to.deep.equal(['dead2']);
    // an operator deleted the row of an engine that held 'ghost'
    const client = new pg.Client({ connectionString: URL });
    await client.connect();
    await client.query(`UPDATE "${schema}".flows SET owner = 'gone-engine' WHERE id = 'ghost'`);
    await client.end();
    await b.heartbeat({ id: 'B', now: 5000, leaseMs: 10_000, running: 0, held: [] });
    // b's first claim sweeps: the flows of D (dead since 1100) and the one whose owner has no row
    const taken = await b.claim({ owner: 'B', now: 5000, limit: 10 });
    expect(taken.map((c) => c.flowId)).to.deep.equal(['dead1', 'ghost', 'dead2']);
    expect(taken.every((c) => c.epoch === 2)).to.equal(true);
  });

  it('rejects open on an unreachable server with E_STORE_UNAVAILABLE in time, naming host and db but not the password', async () => {
    const store = new PostgresStore({ connectionString: 'postgres://someone:s3cret@127.0.0.1:1/orders', schema, connectTimeoutMs: 2000 });
    const started = Date.now();
    const err = await errorOf(store.open());
    expect(Date.now() - started).to.be.below(2500);
    expect(err).to.have.property('code', 'E_STORE_UNAVAILABLE');
    expect((err as Error).message)
      .to.contain('127.0.0.1:1/orders')
      .and.not.contain('s3cret');
    expect(store.status).to.equal('closed');
    expect(await errorOf(store.getFlow('a'))).to.have.property('code', 'E_CLOSED');
  });

  it('uses a pool the caller owns, and leaves it open on close', async () => {
    const pool = new pg.Pool({ connectionString: URL });
    try {
      const store = new PostgresStore({ pool, schema });
      await store.open();
      await store.write([created('a')]);
      await store.close();
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".flows`)).rows[0].n).to.equal(1);
    } finally {
      await pool.end();
    }
  });

  it("names a caller's pool connections before it uses them, with no query queued behind another", async () => {
    // pg deprecates (and pg 9 refuses) a query sent while the client runs another: naming a
    // connection from the pool's connect event raced the first query of whoever took it
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    const pool = new pg.Pool({ connectionString: URL, max: 4 });
    try {
      const store = new PostgresStore({ pool, schema });
      await store.open();
      await Promise.all(Array.from({ length: 8 }, (_, i) => store.write([created(`f${i}`)])));
      const names = await Promise.all(
        Array.from({ length: 4 }, () =>
          store.getFlow('f0').then(() => pool.query<{ name: string }>('SELECT current_setting($1) AS name', ['application_name'])),
        ),
      );
      await store.close();
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.includes('already executing a query'))).to.deep.equal([]);
      expect(names.map((r) => r.rows[0]!.name)).to.deep.equal(['vastflow', 'vastflow', 'vastflow', 'vastflow']);
    } finally {
      process.off('warning', onWarning);
      await pool.end();
    }
  });

  it('never gives two concurrent claimers the same flow', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    const ids = Array.from({ length: 200 }, (_, i) => `f${String(i).padStart(3, '0')}`);
    await a.write(ids.map((id, i) => created(id, { status: 'waiting', seq: i })));
    await a.heartbeat({ id: 'A', now: 1000, leaseMs: 60_000, running: 0, held: [] });
    await b.heartbeat({ id: 'B', now: 1000, leaseMs: 60_000, running: 0, held: [] });
    const drain = async (store: PostgresStore, owner: string): Promise<string[]> => {
      const got: string[] = [];
      for (;;) {
        const claims = await store.claim({ owner, now: 2000, limit: 10 });
        if (claims.length === 0 && (await store.listDue(2000, 1)).length === 0 && (await store.claim({ owner, now: 2000, limit: 10 })).length === 0) {
          return got;
        }
        got.push(...claims.map((c) => c.flowId));
      }
    };
    const [byA, byB] = await Promise.all([drain(a, 'A'), drain(b, 'B')]);
    expect(byA.filter((id) => byB.includes(id))).to.deep.equal([]);
    expect([...byA, ...byB].sort()).to.deep.equal(ids);
    expect(byA.length, 'both claimers took part').to.be.above(0);
    expect(byB.length, 'both claimers took part').to.be.above(0);
  });

  it('claims due flows first, then waiting ones in queue order; an own flow keeps its epoch, a live one is not taken', async () => {
    const store = await open();
    await store.write([
      created('w2', { status: 'waiting', seq: 2 }),
      created('w1', { status: 'waiting', seq: 1 }),
      created('late', { dueAt: 5000 }),
      created('soon', { dueAt: 1500 }),
      created('now'),
      created('done', { status: 'success' }),
    ]);
    await store.heartbeat({ id: 'A', now: 1000, leaseMs: 10_000, running: 0, held: [] });
    await store.heartbeat({ id: 'B', now: 1000, leaseMs: 10_000, running: 0, held: [] });
    expect(await store.listDue(2000, 10)).to.deep.equal(['now', 'soon']);
    const first = await store.claim({ owner: 'A', now: 2000, limit: 3 });
    expect(first).to.deep.equal([
      { flowId: 'now', epoch: 1 },
      { flowId: 'soon', epoch: 1 },
      { flowId: 'w1', epoch: 1 },
    ]);
    expect(await store.claim({ owner: 'B', now: 2000, limit: 10, ids: ['now', 'w2'] })).to.deep.equal([{ flowId: 'w2', epoch: 1 }]);
    expect(await store.claim({ owner: 'A', now: 2000, limit: 10, ids: ['now', 'done'] })).to.deep.equal([{ flowId: 'now', epoch: 1 }]);
    expect(await store.listDue(2000, 10)).to.deep.equal([]);
    await store.release('A', ['now']);
    expect(await store.claim({ owner: 'A', now: 2000, limit: 1 })).to.deep.equal([{ flowId: 'now', epoch: 2 }]);
  });

  it('reads each claimed flow with its claim when asked (load): what getFlow reads, as claimed', async () => {
    const store = await open();
    await store.write([
      created('w1', { status: 'waiting', seq: 1 }),
      {
        ...created('run'),
        streams: { '0': rec({ state: 'running', attempts: 2 }) },
        headwaters: { main: { set: { a: 1, b: 'x' }, del: [] }, s1: { set: { c: true }, del: [] } },
      },
    ]);
    await store.heartbeat({ id: 'A', now: 1000, leaseMs: 10_000, running: 0, held: [] });
    const claims = await store.claim({ owner: 'A', now: 1000, limit: 10, load: true });
    expect(claims.map((c) => [c.flowId, c.epoch])).to.deep.equal([
      ['run', 1],
      ['w1', 1],
    ]);
    for (const c of claims) expect(c.flow).to.deep.equal(await store.getFlow(c.flowId));
    expect(claims[0]!.flow!.headwaters).to.deep.equal({ main: { a: 1, b: 'x' }, s1: { c: true } });
    expect(claims[0]!.flow!.streams['0']).to.deep.equal(rec({ state: 'running', attempts: 2 }));
    // without load, a claim is the id and the epoch only
    await store.release('A', ['w1']);
    expect(await store.claim({ owner: 'A', now: 1000, limit: 10 })).to.deep.equal([{ flowId: 'w1', epoch: 2 }]);
  });

  it('reads the ended flows among ids at once (getEnded), whole, and none of the unfinished or unknown', async () => {
    const store = await open();
    await store.write([
      created('run'),
      {
        ...created('done', { status: 'success' }),
        headwaters: { main: { set: { out: 'x' }, del: [] } },
        streams: { '0': rec({ state: 'success', attempts: 1 }) },
      },
      created('hooked', { status: 'fail', atlantic: { outcome: 'fail', done: false } }),
    ]);
    const ended = await store.getEnded(['run', 'done', 'hooked', 'nowhere']);
    expect(ended.map((f) => f.header.id)).to.deep.equal(['done']);
    expect(ended[0]).to.deep.equal(await store.getFlow('done'));
    expect(await store.getEnded([])).to.deep.equal([]);
  });

  it('claims only flows whose classes the claimer has', async () => {
    const store = await open();
    await store.write([
      { ...created('vm'), create: { ...created('vm').create!, classes: ['CreateVm', 'AttachVol'] } },
      { ...created('plain'), create: { ...created('plain').create!, classes: [] } },
      { ...created('other'), create: { ...created('other').create!, classes: ['CreateVm', 'Other'] } },
    ]);
    await store.heartbeat({ id: 'A', now: 1, leaseMs: 10_000, running: 0, held: [] });
    const claims = await store.claim({ owner: 'A', now: 1, limit: 10, classes: new Set(['CreateVm', 'AttachVol']) });
    expect(claims.map((c) => c.flowId).sort()).to.deep.equal(['plain', 'vm']);
    expect((await store.claim({ owner: 'B', now: 1, limit: 10 })).map((c) => c.flowId)).to.deep.equal(['other']);
  });

  it("fences a write of an engine whose lease ran out and whose flow another engine took, and applies the group's other flows", async () => {
    const [a, b] = await Promise.all([open(), open()]);
    await a.write([created('f1'), created('f2')]);
    await a.heartbeat({ id: 'A', now: 1000, leaseMs: 100, running: 1, held: [] });
    expect(await a.claim({ owner: 'A', now: 1000, limit: 10, ids: ['f1'] })).to.deep.equal([{ flowId: 'f1', epoch: 1 }]);
    await b.heartbeat({ id: 'B', now: 2000, leaseMs: 10_000, running: 0, held: [] });
    expect(await b.claim({ owner: 'B', now: 2000, limit: 10, ids: ['f1'] })).to.deep.equal([{ flowId: 'f1', epoch: 2 }]);
    expect(await a.heartbeat({ id: 'A', now: 2001, leaseMs: 100, running: 1, held: ['f1'] })).to.deep.equal({ lost: ['f1'] });
    expect(await b.write([{ flowId: 'f1', fence: { owner: 'B', epoch: 2 }, streams: { '0': rec({ state: 'running', attempts: 1 }) } }])).to.deep.equal({
      fenced: [],
      duplicates: [],
    });
    const stale: FlowChange[] = [
      {
        flowId: 'f1',
        fence: { owner: 'A', epoch: 1 },
        header: header('f1', { status: 'success' }),
        streams: { '0': rec({ state: 'success', attempts: 1 }) },
        headwaters: { main: { set: { a: 'stale' }, del: [] } },
      },
      { flowId: 'f2', streams: { '0': rec({ state: 'success', attempts: 1 }) } },
    ];
    expect(await a.write(stale)).to.deep.equal({ fenced: ['f1'], duplicates: [] });
    const f1 = await b.getFlow('f1');
    expect(f1?.header.status).to.equal('running');
    expect(f1?.streams['0']?.state).to.equal('running');
    expect(f1?.headwaters['main']).to.deep.equal({ a: 1 });
    expect((await b.getFlow('f2'))?.streams['0']?.state).to.equal('success');
  });

  it('lets exactly one of two stores create a requestId started on both at once', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    for (let round = 0; round < 10; round++) {
      const one = { ...created(`a${round}`), header: header(`a${round}`, { requestId: `same-${round}` }) };
      const two = { ...created(`b${round}`), header: header(`b${round}`, { requestId: `same-${round}` }) };
      const [ra, rb] = await Promise.all([a.write([one, created(`x${round}`)]), b.write([two])]);
      const lost = [...ra.duplicates, ...rb.duplicates];
      expect(lost, `round ${round}`).to.have.length(1);
      const winner = lost[0] === `a${round}` ? `b${round}` : `a${round}`;
      expect(await a.findFlowId(`same-${round}`)).to.equal(winner);
      expect(await a.getFlow(lost[0]!)).to.equal(undefined);
      expect(await a.findFlowId(`req-x${round}`), 'the rest of the group lands').to.equal(`x${round}`);
    }
  });

  it('keeps a command inbox: added for known flows only, listed by flow, owner and seq, and consumed by a write', async () => {
    const store = await open();
    await store.write([created('f1'), created('f2')]);
    const c1 = await store.addCommand('f1', { kind: 'cancel', reason: 'why' }, 10);
    const c2 = await store.addCommand('f2', { kind: 'message', name: 'go', payload: { n: 1 } }, 11);
    expect(await store.addCommand('nope', { kind: 'redrive' }, 12)).to.equal(undefined);
    expect(c1).to.deep.include({ flowId: 'f1', at: 10, body: { kind: 'cancel', reason: 'why' } });
    expect(c2!.seq).to.be.above(c1!.seq);
    expect((await store.listCommands()).map((c) => c.flowId)).to.deep.equal(['f1', 'f2']);
    expect(await store.listCommands({ flowId: 'f2' })).to.deep.equal([c2]);
    expect(await store.listCommands({ after: c1!.seq })).to.deep.equal([c2]);
    await store.claim({ owner: 'A', now: 1, limit: 1, ids: ['f2'] });
    expect(await store.listCommands({ owner: 'A' })).to.deep.equal([c2]);
    await store.write([{ flowId: 'f1', consumed: [c1!.seq, c2!.seq] }]);
    expect(await store.listCommands()).to.deep.equal([c2]);
  });

  it('adds no command for a flow a purge is deleting: it waits for the purge and finds no flow, leaving no orphan', async () => {
    const store = await open();
    await store.write([created('f1')]);
    const purger = new pg.Client({ connectionString: URL });
    await purger.connect();
    try {
      // what a purge's statement does to one flow, held open before its commit
      await purger.query('BEGIN');
      await purger.query(`DELETE FROM "${schema}".flows WHERE id = 'f1'`);
      await purger.query(`DELETE FROM "${schema}".commands WHERE flow_id = 'f1'`);
      let settled = false;
      const added = store.addCommand('f1', { kind: 'cancel' }, 5).finally(() => (settled = true));
      // until the add settles (it did not wait) or waits for the purge's transaction
      const { rows: me } = await purger.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      for (let tries = 0; !settled && tries < 400; tries++) {
        const { rows } = await purger.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))', [
          me[0]!.pid,
        ]);
        if (rows[0]!.n > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await purger.query('COMMIT');
      expect(await added, 'no flow once the purge committed').to.equal(undefined);
      const { rows } = await purger.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".commands`);
      expect(rows[0]!.n, 'commands left of the purged flow').to.equal(0);
    } finally {
      await purger.end();
    }
  });

  it('tells a watcher of a command another store added, and of a flow another store released', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    await a.write([created('f1')]);
    const { notices, next, stop } = await watching(a);
    let waiting = next();
    await b.addCommand('f1', { kind: 'cancel' }, 1);
    await waiting;
    expect(notices).to.deep.equal([{ kind: 'command', flowId: 'f1' }]);
    await b.claim({ owner: 'B', now: 1, limit: 1, ids: ['f1'] });
    waiting = next();
    await b.release('B', ['f1']);
    await waiting;
    expect(notices[1]).to.deep.equal({ kind: 'runnable' });
    await a.addCommand('f1', { kind: 'redrive' }, 2); // its own: not told
    await stop();
    await b.addCommand('f1', { kind: 'redrive' }, 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(notices).to.have.length(2);
  });

  it('listens again after its connection was cut, and says so with a runnable notice', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    await a.write([created('f1')]);
    const { notices, next, stop } = await watching(a);
    try {
      let waiting = next();
      const admin = new pg.Client({ connectionString: URL });
      await admin.connect();
      const cut = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN "vastflow_${schema}"'`);
      await admin.end();
      expect(cut.rowCount).to.equal(1);
      await waiting;
      expect(notices).to.deep.equal([{ kind: 'runnable' }]);
      waiting = next();
      await b.addCommand('f1', { kind: 'cancel' }, 1);
      await waiting;
      expect(notices[1]).to.deep.equal({ kind: 'command', flowId: 'f1' });
    } finally {
      await stop();
    }
  });

  it('lists workers by their live heartbeat, and leave() releases every flow of one', async () => {
    const store = await open();
    await store.write([created('f1'), created('f2')]);
    await store.heartbeat({ id: 'A', now: 1000, leaseMs: 500, running: 2, held: [] });
    await store.heartbeat({ id: 'B', now: 1000, leaseMs: 5000, running: 0, held: [] });
    expect(await store.workers(1200)).to.deep.equal([
      { id: 'A', heartbeatAt: 1000, running: 2 },
      { id: 'B', heartbeatAt: 1000, running: 0 },
    ]);
    expect(await store.workers(1600)).to.deep.equal([{ id: 'B', heartbeatAt: 1000, running: 0 }]);
    expect(await store.claim({ owner: 'A', now: 1000, limit: 10 })).to.have.length(2);
    await store.leave('A');
    expect(await store.workers(1200)).to.deep.equal([{ id: 'B', heartbeatAt: 1000, running: 0 }]);
    expect(await store.claim({ owner: 'B', now: 1000, limit: 10 })).to.deep.equal([
      { flowId: 'f1', epoch: 2 },
      { flowId: 'f2', epoch: 2 },
    ]);
  });

  it('pages flows by status and reads the change feed from a cursor', async () => {
    const store = await open();
    await store.write(['a', 'b', 'c', 'd'].map((id) => created(id, { status: id === 'c' ? 'success' : 'running' })));
    const page1 = await store.listFlows({ limit: 2 });
    expect(page1.map((h) => h.id)).to.deep.equal(['d', 'c']);
    expect((await store.listFlows({ limit: 2, before: 'c' })).map((h) => h.id)).to.deep.equal(['b', 'a']);
    expect((await store.listFlows({ status: 'running', before: 'd' })).map((h) => h.id)).to.deep.equal(['b', 'a']);
    const all = await store.changes(undefined, 10);
    expect(all.entries.map((e) => e.flowId)).to.deep.equal(['a', 'b', 'c', 'd']);
    await store.write([{ flowId: 'b', header: header('b', { status: 'success', updatedAt: 2000 }) }]);
    const later = await store.changes(all.cursor, 10);
    expect(later.entries).to.deep.equal([{ flowId: 'b', status: 'success', updatedAt: 2000 }]);
    expect((await store.changes(later.cursor, 10)).entries).to.deep.equal([]);
    const first = await store.changes('0', 1);
    expect(first.entries.map((e) => e.flowId)).to.deep.equal(['a']);
  });

  it('writes a group of 200 flow changes in one transaction: every flow of the group lands', async () => {
    // (how fast is for npm run bench:pg, not for the suite)
    const store = await open();
    const ids = Array.from({ length: 200 }, (_, i) => `p${i}`);
    await store.write(ids.map((id) => created(id)));
    const step = (n: number): FlowChange[] =>
      ids.map((id) => ({
        flowId: id,
        header: header(id, { updatedAt: 1000 + n }),
        streams: { '0': rec({ state: 'running', attempts: n }) },
        headwaters: { main: { set: { n }, del: [] } },
      }));
    for (let n = 0; n < 3; n++) await store.write(step(n));
    for (const id of ['p0', 'p117', 'p199']) {
      const flow = await store.getFlow(id);
      expect(flow?.streams['0']?.attempts).to.equal(2);
      expect(flow?.headwaters['main']).to.deep.include({ n: 2 });
      expect(flow?.header.updatedAt).to.equal(1002);
    }
  });
});
