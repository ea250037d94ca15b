import type pg from 'pg';
import { VastflowError } from '../../errors/vastflow-error.js';

/** The format this version of vastflow writes: the number of the last migration. */
export const FORMAT = 3;

/** Sorts before every due time: a flow with no `dueAt` is due at once. */
export const NO_DUE = '-9223372036854775808';

/**
 * The migrations, in order: migration n brings a schema from format n - 1 to n. Each runs in the
 * transaction that holds the schema's advisory lock, so engines that open at once wait for it.
 */
const MIGRATIONS: ReadonlyArray<(s: string) => string[]> = [
  (s) => [
    `CREATE SEQUENCE ${s}.change_seq`,
    `CREATE TABLE ${s}.flows (
      id text PRIMARY KEY,
      request_id text NOT NULL UNIQUE,
      status text NOT NULL,
      seq bigint NOT NULL,
      created_at bigint NOT NULL,
      updated_at bigint NOT NULL,
      due_at bigint,
      unfinished boolean NOT NULL,
      owner text,
      epoch bigint NOT NULL DEFAULT 0,
      classes text[] NOT NULL DEFAULT '{}',
      header json NOT NULL,
      blueprint json NOT NULL
    ) WITH (fillfactor = 70)`,
    // the waiting queue (listWaiting, claim)
    `CREATE INDEX flows_waiting ON ${s}.flows (seq, id) WHERE status = 'waiting'`,
    // due flows (listDue, claim): unfinished and not waiting, earliest due first, no dueAt first of all
    `CREATE INDEX flows_due ON ${s}.flows ((COALESCE(due_at, ${NO_DUE})), id) WHERE unfinished AND status <> 'waiting'`,
    `CREATE INDEX flows_unfinished ON ${s}.flows (id) WHERE unfinished`,
    // listFlows, newest first, with and without a status
    `CREATE INDEX flows_created ON ${s}.flows (created_at, id)`,
    `CREATE INDEX flows_status ON ${s}.flows (status, created_at, id)`,
    // release, leave, listCommands by owner
    `CREATE INDEX flows_owner ON ${s}.flows (owner) WHERE owner IS NOT NULL`,
    // the change feed: each flow's latest change, in commit order (transaction id, then sequence).
    // A table of its own, so that a header write that moves a flow in no index of flows is a HOT update.
    `CREATE TABLE ${s}.changes (flow_id text PRIMARY KEY, status text NOT NULL, updated_at bigint NOT NULL,
      change_xid xid8 NOT NULL DEFAULT pg_current_xact_id(), change_seq bigint NOT NULL DEFAULT nextval('${s}.change_seq'))`,
    `CREATE INDEX changes_order ON ${s}.changes (change_xid, change_seq)`,
    `CREATE TABLE ${s}.streams (flow_id text NOT NULL, stream_id text NOT NULL, record json NOT NULL, PRIMARY KEY (flow_id, stream_id)) WITH (fillfactor = 70)`,
    `CREATE TABLE ${s}.headwaters (flow_id text NOT NULL, scope text NOT NULL, key text NOT NULL, value json NOT NULL, PRIMARY KEY (flow_id, scope, key)) WITH (fillfactor = 70)`,
    `CREATE TABLE ${s}.commands (seq bigserial PRIMARY KEY, flow_id text NOT NULL, at bigint NOT NULL, body json NOT NULL)`,
    `CREATE INDEX commands_flow ON ${s}.commands (flow_id, seq)`,
    `CREATE TABLE ${s}.workers (id text PRIMARY KEY, heartbeat_at bigint NOT NULL, expires_at bigint NOT NULL, running integer NOT NULL)`,
  ],
  // 2: a claim looks only at flows it may take. The due index holds the flows nobody holds (not
  // every running flow of every engine, which each claim used to walk past); the flows of a dead
  // engine are found by owner, and the owner index holds unfinished flows only.
  (s) => [
    `DROP INDEX ${s}.flows_due`,
    `CREATE INDEX flows_free ON ${s}.flows ((COALESCE(due_at, ${NO_DUE})), id) WHERE unfinished AND status <> 'waiting' AND owner IS NULL`,
    `DROP INDEX ${s}.flows_owner`,
    `CREATE INDEX flows_owner ON ${s}.flows (owner) WHERE owner IS NOT NULL AND unfinished`,
  ],
  // 3: fewer indexes to keep up at each of a flow's writes (its status changes twice, so none of them
  // is a HOT update): flows list newest first by id alone (the engine's ids begin with their
  // creation time), and the unfinished flows are those of the three partial indexes above.
  (s) => [
    `DROP INDEX ${s}.flows_created`,
    `DROP INDEX ${s}.flows_status`,
    `DROP INDEX ${s}.flows_unfinished`,
    `CREATE INDEX flows_status ON ${s}.flows (status, id)`,
  ],
];

/**
 * Creates the schema and its tables, or migrates them to {@link FORMAT}, under an advisory lock
 * on the schema's name (so that many engines may open a new database at once). With `create`
 * false, a schema that holds no store is refused and nothing is created.
 * @throws VastflowError E_STORE_CORRUPT when the schema holds a newer format than this vastflow reads;
 * E_NOT_FOUND (only with `create` false) when it holds no store.
 */
export async function migrate(client: pg.PoolClient, schema: string, where: string, create: boolean): Promise<void> {
  const s = `"${schema}"`;
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`vastflow schema ${schema}`]);
    if (create) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${s}.meta (key text PRIMARY KEY, value text NOT NULL)`);
    } else {
      const { rows } = await client.query<{ schema: boolean; meta: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema, to_regclass($2) IS NOT NULL AS meta`,
        [schema, `${s}.meta`],
      );
      if (!rows[0]!.meta) throw noStore(schema, where, rows[0]!.schema ? 'the schema holds no vastflow tables' : 'the schema does not exist');
    }
    const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${s}.meta WHERE key = 'format'`);
    if (!create && rows.length === 0) throw noStore(schema, where, 'the schema holds no vastflow store format');
    const found = rows.length === 0 ? 0 : Number(rows[0]!.value);
    if (!Number.isInteger(found) || found > FORMAT) {
      throw new VastflowError(
        'E_STORE_CORRUPT',
        `store ${where}: the schema holds store format ${rows[0]!.value}, and this vastflow reads format ${FORMAT} at most: upgrade vastflow`,
      );
    }
    for (let n = found; n < FORMAT; n++) for (const ddl of MIGRATIONS[n]!(s)) await client.query(ddl);
    if (found < FORMAT) {
      await client.query(`INSERT INTO ${s}.meta (key, value) VALUES ('format', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [String(FORMAT)]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const noStore = (schema: string, where: string, why: string): VastflowError =>
  new VastflowError(
    'E_NOT_FOUND',
    `no vastflow store at ${where}: ${why}; open an engine on it to create it (Engine.open({ store: new PostgresStore({ connectionString, schema: '${schema}' }) }))`,
  );
