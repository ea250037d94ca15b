// The database going away while flows run, through a TCP proxy of our own that the test cuts and
// restores: the engine retries its writes and heartbeats for worker.reconnectFor, fails no flow,
// and resumes; past reconnectFor it closes with E_STORE_UNAVAILABLE; Engine.open on an unreachable
// database rejects within worker.connectTimeout.
import { expect } from 'chai';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Andes, Engine, Headwaters, PostgresStore, River, type FlowRun, type RiverAttr, type WorkerOptions } from '../../lib/index.js';
import { describePg, PG_URL, freshSchema } from '../helpers/postgres.js';
import { rejects, silent, until, within } from '../helpers/stores.js';

/** A TCP proxy to the PostgreSQL server that can be cut (every connection dropped, new ones refused) and restored. */
class Proxy {
  readonly #server = net.createServer((client) => this.#pipe(client));
  readonly #sockets = new Set<net.Socket>();
  #cut = false;
  port = 0;
  constructor(readonly target: { host: string; port: number }) {}
  async start(): Promise<void> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', r));
    this.port = (this.#server.address() as net.AddressInfo).port;
  }
  #hole = false;
  readonly #pairs = new Set<[net.Socket, net.Socket]>();
  #pipe(client: net.Socket): void {
    if (this.#cut) return void client.destroy();
    client.on('error', () => undefined);
    this.#sockets.add(client);
    client.on('close', () => this.#sockets.delete(client));
    // a partition: connections are taken, and nothing goes through
    if (this.#hole) return;
    const upstream = net.connect(this.target.port, this.target.host);
    this.#sockets.add(upstream);
    upstream.on('close', () => this.#sockets.delete(upstream));
    upstream.on('error', () => undefined);
    client.pipe(upstream).pipe(client);
    this.#pairs.add([client, upstream]);
  }
  cut(): void {
    this.#cut = true;
    for (const s of this.#sockets) s.destroy();
  }
  /** A network partition: every connection stays up and carries nothing, new ones too. */
  hole(): void {
    this.#hole = true;
    for (const [client, upstream] of this.#pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }
  restore(): void {
    this.#cut = false;
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise((r) => this.#server.close(r));
  }
}

class Slow extends River<{ n: number }> {
  static riverName = 'DbLoss.Slow';
  static calls = new Map<string, number>();
  update(attr: RiverAttr) {
    attr.durable = true;
  }
  async flow(hw: Headwaters) {
    const key = `${hw.requestId}/${this.config!.n}`;
    Slow.calls.set(key, (Slow.calls.get(key) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, 30));
    hw.put(`step${this.config!.n}`, true);
  }
}

describePg('the database going away (a TCP proxy cut and restored)', function () {
  this.timeout(30_000);
  const target = new URL(PG_URL);
  let proxy: Proxy;
  let engine: Engine | undefined;
  let drop: () => Promise<void>;
  let schema: string;

  beforeEach(async () => {
    Slow.calls.clear();
    proxy = new Proxy({ host: target.hostname, port: Number(target.port || 5432) });
    await proxy.start();
    ({ schema, drop } = freshSchema('dbloss'));
  });
  afterEach(async () => {
    await engine?.close().catch(() => undefined);
    engine = undefined;
    await proxy.close();
    await drop();
  });

  const viaProxy = () => Object.assign(new URL(PG_URL), { port: String(proxy.port) }).toString();
  /** An engine on the schema through the proxy, running up to 50 flows. */
  const openViaProxy = async (worker: WorkerOptions): Promise<Engine> =>
    (engine = await Engine.open({
      store: new PostgresStore({ connectionString: viaProxy(), schema }),
      classes: [Slow],
      logger: silent,
      concurrency: 50,
      worker,
    }));
  /** Resolves once `e` answers E_CLOSED (it closed itself). */
  const closes = (e: Engine, ms: number): Promise<void> =>
    until(
      async () =>
        (await e.list({ limit: 1 }).then(
          () => 'open',
          (x: { code?: string }) => x.code,
        )) === 'E_CLOSED',
      ms,
      'the engine closing',
    );
  /** `count` flows `<prefix>-<i>` of `steps` Slow rivers each. */
  const startSlow = (e: Engine, prefix: string, count: number, steps: number): Promise<FlowRun[]> =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        new Andes(e)
          .drawHeadwaters(new Headwaters(`${prefix}-${i}`))
          .drawStream(...Array.from({ length: steps }, (_, n) => new Slow({ n: n + 1 })))
          .start(),
      ),
    );

  it('fails no flow when the database is away for less than reconnectFor, and every river runs once', async () => {
    const runs = await startSlow(await openViaProxy({ id: 'steady', heartbeat: '100ms', leaseTime: '5s', reconnectFor: '10s' }), 'loss', 30, 3);
    await until(() => [...Slow.calls.keys()].some((k) => k.endsWith('/2')), 5000, 'the flows under way');
    proxy.cut();
    await new Promise((r) => setTimeout(r, 800));
    proxy.restore();
    const outcomes = await Promise.all(runs.map((r) => r.result()));
    expect(outcomes.map((o) => o.status)).to.deep.equal(outcomes.map(() => 'success'));
    expect(outcomes.every((o) => o.headwaters['step3'] === true)).to.equal(true);
    expect(
      [...Slow.calls.values()].every((n) => n === 1),
      'every river ran once',
    ).to.equal(true);
    expect(Slow.calls.size).to.equal(90);
  });

  it('goes on when the database is back just before reconnectFor: a write tries once more at the deadline', async () => {
    // the waits double (50 ms, 100 ms, … 1.6 s): the write that failed first gave up at 1.55 s when the
    // next wait would have passed reconnectFor, here 3 s, though the database was back at 2.3 s
    const runs = await startSlow(await openViaProxy({ id: 'late', heartbeat: '100ms', leaseTime: '10s', reconnectFor: '3s' }), 'late', 20, 2);
    await until(() => Slow.calls.size > 0, 5000, 'the flows under way');
    proxy.cut();
    await new Promise((r) => setTimeout(r, 2300));
    proxy.restore();
    const outcomes = await Promise.all(runs.map((r) => r.result()));
    expect(outcomes.map((o) => o.status)).to.deep.equal(outcomes.map(() => 'success'));
    expect(
      [...Slow.calls.values()].every((n) => n === 1),
      'every river ran once',
    ).to.equal(true);
  });

  it('closes, its flows free for another engine, when its writes failed for reconnectFor though its heartbeats went on', async () => {
    // heartbeats far apart: the outage falls between two, and only the writes see it
    const a = await openViaProxy({ id: 'writes-failed', heartbeat: '3s', leaseTime: '30s', reconnectFor: '300ms' });
    const runs = await startSlow(a, 'stuck', 10, 2);
    await until(() => Slow.calls.size > 0, 5000, 'the flows under way');
    proxy.cut();
    expect((await rejects(runs[0]!.result())).code).to.equal('E_STORE_UNAVAILABLE');
    proxy.restore();
    await closes(a, 5000);
    // far within its 30 s lease: the closing engine left its flows for the others
    const b = (engine = await Engine.open({
      store: new PostgresStore({ connectionString: PG_URL, schema }),
      classes: [Slow],
      logger: silent,
      worker: { id: 'taker' },
    }));
    for (let i = 0; i < 10; i++) {
      try {
        await until(async () => (await b.get(`stuck-${i}`))?.status === 'success', 10_000, `stuck-${i} ended by the taker`);
      } catch (err) {
        // what the store shows, for whoever reads a failure here
        const snap = await b.get(`stuck-${i}`);
        const seen = { status: snap?.status, streams: snap?.streams.map((s) => s.state), workers: (await b.workers()).map((w) => [w.id, w.running]) };
        throw new Error(`${(err as Error).message}: ${JSON.stringify(seen)}`);
      }
    }
  });

  it('closing for want of the database, asks it to release its claims until closeTimeout: back by then, the flows are free at once', async () => {
    const a = (engine = await Engine.open({
      store: new PostgresStore({ connectionString: viaProxy(), schema }),
      classes: [Slow],
      logger: silent,
      closeTimeout: 3_000,
      worker: { id: 'releases-late', heartbeat: '3s', leaseTime: '30s', reconnectFor: '300ms' },
    }));
    const runs = await startSlow(a, 'late-release', 5, 2);
    await until(() => Slow.calls.size > 0, 5000, 'the flows under way');
    proxy.cut();
    expect((await rejects(runs[0]!.result())).code).to.equal('E_STORE_UNAVAILABLE');
    await closes(a, 5000);
    // the engine is closing, and its release has found no database; it comes back within closeTimeout
    await new Promise((r) => setTimeout(r, 500));
    proxy.restore();
    const b = (engine = await Engine.open({
      store: new PostgresStore({ connectionString: PG_URL, schema }),
      classes: [Slow],
      logger: silent,
      worker: { id: 'taker-late', heartbeat: '1s', leaseTime: '5s' },
    }));
    // far within the 30 s lease of the engine that closed
    for (let i = 0; i < 5; i++)
      await until(async () => (await b.get(`late-release-${i}`))?.status === 'success', 5_000, `late-release-${i} ended by the taker`);
    await a.close();
  });

  it('tries again with backoff while the database is away: one warning, then tries sooner than the heartbeat', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const logger = pino({ level: 'debug' }, new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c))), cb()) }));
    engine = await Engine.open({
      store: new PostgresStore({ connectionString: viaProxy(), schema }),
      logger,
      worker: { id: 'backoff', heartbeat: '2s', leaseTime: '10s', reconnectFor: '20s' },
    });
    proxy.cut();
    const worker = (l: { msg: string }) => l.msg.startsWith('worker: ');
    await until(() => lines.some((l) => l.level === 40 && worker(l)), 5000, 'the first failed heartbeat');
    await new Promise((r) => setTimeout(r, 900)); // tries at 50, 100, 200 and 400 ms after it
    proxy.restore();
    await until(() => lines.some((l) => l.msg === 'worker: the store answers again'), 5000, 'the store answering again');
    const warnings = lines.filter((l) => l.level === 40 && worker(l));
    expect(warnings, JSON.stringify(warnings)).to.have.length(1);
    expect(warnings[0]!.msg).to.contain('backoff');
    const tries = lines.filter((l) => l.msg === 'worker: the store still does not answer');
    expect(tries.length, 'tries within the first second, where the heartbeat is 2 s').to.be.at.least(3);
  });

  it('closes with E_STORE_UNAVAILABLE once the database has been away for longer than reconnectFor', async () => {
    engine = await Engine.open({
      store: new PostgresStore({ connectionString: viaProxy(), schema }),
      classes: [Slow],
      logger: silent,
      worker: { id: 'gives-up', heartbeat: '50ms', leaseTime: '2s', reconnectFor: '300ms' },
    });
    const run = await new Andes(engine)
      .drawHeadwaters(new Headwaters('gone'))
      .drawStream(new Slow({ n: 1 }), new Slow({ n: 2 }))
      .start();
    proxy.cut();
    const err = await rejects(run.result());
    expect(err.code).to.equal('E_STORE_UNAVAILABLE');
    await until(
      async () =>
        (await engine!.get('gone').then(
          () => 'open',
          (e: { code?: string }) => e.code,
        )) !== 'open',
      5000,
      'the engine closing',
    );
  });

  it('closes with E_STORE_UNAVAILABLE once a partition (connections up, nothing through) has lasted past the lease and reconnectFor', async () => {
    engine = await Engine.open({
      store: new PostgresStore({ connectionString: viaProxy(), schema }),
      classes: [Slow],
      logger: silent,
      worker: { id: 'partitioned', heartbeat: '100ms', leaseTime: '500ms', reconnectFor: '500ms', connectTimeout: '300ms' },
    });
    const run = await new Andes(engine)
      .drawHeadwaters(new Headwaters('partitioned'))
      .drawStream(new Slow({ n: 1 }), new Slow({ n: 2 }))
      .start();
    await until(() => Slow.calls.size > 0, 5000, 'the flow under way');
    proxy.hole();
    const t0 = Date.now();
    const err = await within(rejects(run.result()), 8000, 'result() of a flow on the partitioned engine');
    expect(err.code).to.equal('E_STORE_UNAVAILABLE');
    await closes(engine, 8000);
    expect(Date.now() - t0, 'closed within a few leases').to.be.below(8000);
  });

  it('rejects Engine.open with E_STORE_UNAVAILABLE within connectTimeout when the database cannot be reached', async () => {
    proxy.cut();
    const t0 = Date.now();
    const err = await rejects(Engine.open({ store: viaProxy(), logger: silent, worker: { connectTimeout: '500ms' } }));
    expect(err.code).to.equal('E_STORE_UNAVAILABLE');
    expect(Date.now() - t0).to.be.below(3000);
  });

  it("waits worker.connectTimeout on a server that never answers, for a PostgresStore given without a timeout of its own; the store's own wins", async () => {
    // a black hole: connections are taken and nothing ever comes back
    const held = new Set<net.Socket>();
    const hole = net.createServer((s) => {
      held.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    const url = `postgres://postgres@127.0.0.1:${(hole.address() as net.AddressInfo).port}/postgres`;
    try {
      let t0 = Date.now();
      const engineWide = await rejects(
        Engine.open({ store: new PostgresStore({ connectionString: url, schema }), logger: silent, worker: { connectTimeout: '300ms' } }),
      );
      expect(engineWide.code).to.equal('E_STORE_UNAVAILABLE');
      expect(Date.now() - t0, 'worker.connectTimeout: 300 ms').to.be.below(2000);
      t0 = Date.now();
      const own = await rejects(
        Engine.open({ store: new PostgresStore({ connectionString: url, schema, connectTimeoutMs: 600 }), logger: silent, worker: { connectTimeout: '20s' } }),
      );
      expect(own.code).to.equal('E_STORE_UNAVAILABLE');
      expect(Date.now() - t0, "the store's connectTimeoutMs: 600 ms").to.be.within(500, 3000);
    } finally {
      for (const s of held) s.destroy();
      await new Promise((r) => hole.close(r));
    }
  });
});
