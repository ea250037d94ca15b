// On PostgreSQL the commands' seq is a sequence: sends that run at the same time may commit out of
// seq order, so a message of a lower seq can land after one of a higher seq has been read. The
// engine that runs the flow must still hand it to its Dam (it waited for ever, or timed out), and
// a Dam must take the older message first.
import { expect } from 'chai';
import pg from 'pg';
import { Andes, Dam, Engine, Headwaters, PostgresStore, type EngineOptions, type FlowRun, type Stream } from '../../lib/index.js';
import { describePg, freshSchema, PG_URL } from '../helpers/postgres.js';
import { silent, until, within } from '../helpers/stores.js';

describePg('Dam messages on PostgreSQL that commit out of seq order', () => {
  let schema: string;
  let drop: () => Promise<void>;
  const engines: Engine[] = [];
  let sql: pg.Client;
  const open = async (o: Partial<EngineOptions> = {}) => {
    const engine = await Engine.open({ store: new PostgresStore({ connectionString: PG_URL, schema }), logger: silent, ...o });
    engines.push(engine);
    return engine;
  };
  const start = (engine: Engine, requestId: string, ...streams: Stream[]): Promise<FlowRun> => {
    let a = new Andes(engine).drawHeadwaters(new Headwaters(requestId));
    for (const s of streams) a = a.drawStream(s);
    return a.start();
  };
  /** Stores a message as engine.send does, in a transaction left open: its seq is taken, its row unseen. */
  const heldSend = async (flowId: string, name: string, payload: unknown) => {
    await sql.query('BEGIN');
    await sql.query(
      `WITH c AS (INSERT INTO ${schema}.commands (flow_id, at, body) VALUES ($1, $2, $3::json) RETURNING seq)
       SELECT c.seq, pg_notify($4, $5) FROM c`,
      [flowId, Date.now(), JSON.stringify({ kind: 'message', name, payload }), `vastflow_${schema}`, JSON.stringify({ kind: 'command', flowId })],
    );
    return { commit: () => sql.query('COMMIT') };
  };
  const state = async (engine: Engine, id: string, stream: number) => (await engine.get(id))!.streams[stream]!.state;

  beforeEach(async () => {
    ({ schema, drop } = freshSchema('inbox'));
    sql = new pg.Client({ connectionString: PG_URL });
    await sql.connect();
  });
  afterEach(async () => {
    await sql.query('ROLLBACK').catch(() => undefined);
    await sql.end();
    for (const e of engines.splice(0)) await e.close();
    await drop();
  });

  it('hands a message whose seq is lower than one already read to its Dam once it commits', async () => {
    const runner = await open();
    const client = await open({ concurrency: 0 });
    const late = await start(client, 'late', new Dam('go'));
    const early = await start(client, 'early', new Dam('go'));
    await until(async () => (await state(client, late.id, 0)) === 'waiting' && (await state(client, early.id, 0)) === 'waiting', 5000, 'both Dams holding');
    const held = await heldSend(late.id, 'go', 'late');
    // a later seq, committed first: the runner reads it and opens that Dam
    await client.send(early.id, 'go', 'early');
    expect((await early.result()).headwaters).to.deep.equal({ go: 'early' });
    await held.commit();
    const outcome = await within(late.result(), 4000, 'the Dam taking the late message');
    expect(outcome).to.deep.include({ status: 'success', headwaters: { go: 'late' } });
    void runner;
  });

  it('gives a Dam the message sent first when a message of another flow committed in between', async () => {
    await open();
    const client = await open({ concurrency: 0 });
    const run = await start(client, 'two', new Dam('go', { key: 'first' }), new Dam('go', { key: 'second' }));
    const other = await start(client, 'other', new Dam('go'));
    await until(async () => (await state(client, run.id, 0)) === 'waiting' && (await state(client, other.id, 0)) === 'waiting', 5000, 'the Dams holding');
    const held = await heldSend(run.id, 'go', 'A (sent first)');
    await client.send(other.id, 'go', 'to the other flow');
    await other.result();
    await held.commit();
    // A's send has resolved: B, sent after it, is the newer message
    await client.send(run.id, 'go', 'B (sent second)');
    const outcome = await within(run.result(), 4000, 'both Dams taking their messages');
    expect(outcome).to.deep.include({ status: 'success', headwaters: { first: 'A (sent first)', second: 'B (sent second)' } });
  });

  it('reads the inbox by kind when a message holds a lone surrogate, and its Dam gets the text as sent', async () => {
    await open();
    const client = await open({ concurrency: 0 });
    const run = await start(client, 'cut', new Dam('go'));
    await until(async () => (await state(client, run.id, 0)) === 'waiting', 5000, 'the Dam holding');
    // text cut inside a surrogate pair: JSON keeps it as the escape \ud800, which PostgreSQL's json
    // operators refuse to take apart (a read of the cancels and redrives by kind failed for every flow)
    await client.send(run.id, 'later', 'cut \ud800');
    const store = new PostgresStore({ connectionString: PG_URL, schema });
    await store.open();
    try {
      expect(await store.listCommands({ kinds: ['cancel', 'redrive'] })).to.deep.equal([]);
      expect((await store.listCommands({ kinds: ['message'] })).map((c) => c.body)).to.deep.equal([{ kind: 'message', name: 'later', payload: 'cut \ud800' }]);
    } finally {
      await store.close();
    }
    await client.send(run.id, 'go', 'also cut \udfff');
    expect((await run.result()).headwaters).to.deep.equal({ go: 'also cut \udfff' });
  });
});
