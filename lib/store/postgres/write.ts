import type pg from 'pg';
import { headerJson, streamJson } from '../record-json.js';
import { isUnfinished, type Fence, type FlowChange, type FlowHeader, type WriteResult } from '../records.js';
import type { Db } from './db.js';

/** One flow's changes of a group, merged (a group may change a flow more than once). */
interface Merged {
  flowId: string;
  create?: { blueprint: string; classes: string[] };
  fence?: Fence;
  header?: FlowHeader;
  /** The header as JSON. */
  headerJson?: string;
  streams: Map<string, string>;
  /** `scope \0 key` → the JSON value, or null for a delete. */
  headwaters: Map<string, { scope: string; key: string; value: string | null }>;
  consumed: number[];
  /** A finished flow redriven: its old claim is void. */
  reopened?: true;
}

/**
 * The changes of a group by flow, with every JSON value serialised: a value that cannot be
 * (a BigInt, a cycle) throws here, before anything is sent.
 */
export function mergeChanges(changes: readonly FlowChange[]): Merged[] {
  const byFlow = new Map<string, Merged>();
  for (const c of changes) {
    let m = byFlow.get(c.flowId);
    if (m === undefined) {
      m = { flowId: c.flowId, streams: new Map(), headwaters: new Map(), consumed: [] };
      byFlow.set(c.flowId, m);
    }
    if (c.create !== undefined) m.create = { blueprint: JSON.stringify(c.create.blueprint), classes: c.create.classes ?? [] };
    if (c.fence !== undefined) m.fence ??= c.fence;
    if (c.header !== undefined) m.header = c.header;
    if (c.streams !== undefined) for (const sid of Object.keys(c.streams)) m.streams.set(sid, streamJson(c.streams[sid]!));
    if (c.headwaters !== undefined) {
      for (const scope of Object.keys(c.headwaters)) {
        const delta = c.headwaters[scope]!;
        for (const key of Object.keys(delta.set)) m.headwaters.set(`${scope}\0${key}`, { scope, key, value: JSON.stringify(delta.set[key]) });
        for (const key of delta.del) m.headwaters.set(`${scope}\0${key}`, { scope, key, value: null });
      }
    }
    if (c.consumed !== undefined) m.consumed.push(...c.consumed);
    if (c.reopened === true) m.reopened = true;
  }
  for (const m of byFlow.values()) {
    if (m.create !== undefined && m.header === undefined) throw new TypeError(`flow ${m.flowId}: a create needs the flow's header`);
    // serialise the header here too, so that a bad value throws before the transaction
    if (m.header !== undefined) m.headerJson = headerJson(m.header);
  }
  return [...byFlow.values()];
}

/**
 * The statement that applies a group: one statement, so one round trip and its own transaction.
 * Its parts, in the order the data flows through them:
 * - `locked`, `fenced`: the rows of the fenced flows and of the redriven ones (`reopening`),
 *   locked in id order (two writers cannot deadlock), and the flows whose row names another owner
 *   or epoch now, or that another redrive reopened first (a redrive applies to a failed flow only);
 * - `made`, `duplicates`: the creates, and those whose requestId another flow already has;
 * - the header updates, stream records, headwaters and consumed commands of every other flow
 *   (a fenced flow or a duplicate create is dropped whole), and the change feed;
 * - a notice of a runnable flow, when the group made one.
 * The schema has no foreign keys: the parts touch distinct rows, in any order.
 */
function writeStatement(s: string): string {
  const dropped = `(SELECT id FROM fenced UNION ALL SELECT id FROM duplicates)`;
  return `WITH
  reopening AS (SELECT u.id FROM unnest($17::text[], $24::boolean[]) AS u(id, reopened) WHERE u.reopened),
  locked AS (SELECT f.id, f.owner, f.epoch, f.status FROM ${s}.flows f
             -- one array, so that the rows are found by the primary key (an OR here scans the table)
             WHERE f.id = ANY($1::text[] || ARRAY(SELECT id FROM reopening)) ORDER BY f.id FOR NO KEY UPDATE),
  fenced AS (SELECT u.id FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(id, owner, epoch)
             WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.id = u.id AND l.owner = u.owner AND l.epoch = u.epoch)
             UNION ALL
             -- a redrive of a flow that is no longer failed: another engine redrove it first
             SELECT r.id FROM reopening r WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.id = r.id AND l.status = 'fail')),
  made AS (INSERT INTO ${s}.flows (id, request_id, status, seq, created_at, updated_at, due_at, unfinished, owner, epoch, classes, header, blueprint)
           SELECT u.id, u.request_id, u.status, u.seq, u.created_at, u.updated_at, u.due_at, u.unfinished, u.owner, u.epoch,
                  ARRAY(SELECT jsonb_array_elements_text(u.classes::jsonb)), u.header::json, u.blueprint::json
           FROM unnest($4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::boolean[],
                       $12::text[], $13::bigint[], $14::text[], $15::text[], $16::text[])
                AS u(id, request_id, status, seq, created_at, updated_at, due_at, unfinished, owner, epoch, classes, header, blueprint)
           ON CONFLICT (request_id) DO NOTHING
           RETURNING id, status, updated_at),
  duplicates AS (SELECT u.id FROM unnest($4::text[]) AS u(id) WHERE u.id NOT IN (SELECT id FROM made)),
  changed AS (
    UPDATE ${s}.flows f SET status = u.status, seq = u.seq, updated_at = u.updated_at, due_at = u.due_at, unfinished = u.unfinished,
           header = u.header::json,
           -- a redriven flow is nobody's: whichever engine has room claims it
           owner = CASE WHEN u.reopened THEN NULL ELSE f.owner END
    FROM unnest($17::text[], $18::text[], $19::bigint[], $20::bigint[], $21::bigint[], $22::boolean[], $23::text[], $24::boolean[])
         AS u(id, status, seq, updated_at, due_at, unfinished, header, reopened)
    WHERE f.id = u.id AND u.id NOT IN (SELECT id FROM fenced)
    RETURNING f.id, f.status, f.updated_at),
  feed AS (
    INSERT INTO ${s}.changes (flow_id, status, updated_at) SELECT id, status, updated_at FROM made UNION ALL SELECT id, status, updated_at FROM changed
    ON CONFLICT (flow_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
      change_xid = pg_current_xact_id(), change_seq = nextval('${s}.change_seq')),
  streams AS (
    INSERT INTO ${s}.streams (flow_id, stream_id, record)
    SELECT u.f, u.sid, u.r::json FROM unnest($25::text[], $26::text[], $27::text[]) AS u(f, sid, r) WHERE u.f NOT IN ${dropped}
    ON CONFLICT (flow_id, stream_id) DO UPDATE SET record = excluded.record),
  hw_set AS (
    INSERT INTO ${s}.headwaters (flow_id, scope, key, value)
    SELECT u.f, u.sc, u.k, u.v::json FROM unnest($28::text[], $29::text[], $30::text[], $31::text[]) AS u(f, sc, k, v) WHERE u.f NOT IN ${dropped}
    ON CONFLICT (flow_id, scope, key) DO UPDATE SET value = excluded.value),
  hw_del AS (
    DELETE FROM ${s}.headwaters h USING unnest($32::text[], $33::text[], $34::text[]) AS u(f, sc, k)
    WHERE h.flow_id = u.f AND h.scope = u.sc AND h.key = u.k AND u.f NOT IN ${dropped}),
  consumed AS (
    DELETE FROM ${s}.commands c USING unnest($35::text[], $36::bigint[]) AS u(f, seq)
    WHERE c.seq = u.seq AND c.flow_id = u.f AND u.f NOT IN ${dropped})
SELECT ARRAY(SELECT id FROM fenced) AS fenced, ARRAY(SELECT id FROM duplicates) AS duplicates,
       CASE WHEN $38::text IS NOT NULL THEN pg_notify($37, $38) END AS notified`;
}

/** The statement of {@link writeStatement} for each schema, with the name it is prepared under. */
const statements = new Map<string, { name: string; text: string }>();

/** The columns of the creates ($4-$16): one array per column, filled by one loop. */
function createColumns(creates: readonly Merged[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 13 }, () => []);
  for (const m of creates) {
    const h = m.header!;
    const row = [
      m.flowId,
      h.requestId,
      h.status,
      h.seq,
      h.createdAt,
      h.updatedAt,
      h.dueAt ?? null,
      isUnfinished(h),
      m.fence?.owner ?? null,
      m.fence?.epoch ?? 0,
      JSON.stringify(m.create!.classes),
      m.headerJson!,
      m.create!.blueprint,
    ];
    for (let i = 0; i < row.length; i++) cols[i]!.push(row[i]);
  }
  return cols;
}

/** The columns of the header updates ($17-$24). */
function updateColumns(updates: readonly Merged[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 8 }, () => []);
  for (const m of updates) {
    const h = m.header!;
    const row = [m.flowId, h.status, h.seq, h.updatedAt, h.dueAt ?? null, isUnfinished(h), m.headerJson!, m.reopened === true];
    for (let i = 0; i < row.length; i++) cols[i]!.push(row[i]);
  }
  return cols;
}

/**
 * The columns of the rows beside the flows' own ($25-$36): stream records, headwaters set and
 * deleted, consumed commands.
 */
function rowColumns(flows: readonly Merged[]): unknown[][] {
  const streams = { flow: [] as string[], id: [] as string[], record: [] as string[] };
  const set = { flow: [] as string[], scope: [] as string[], key: [] as string[], value: [] as string[] };
  const del = { flow: [] as string[], scope: [] as string[], key: [] as string[] };
  const consumed = { flow: [] as string[], seq: [] as number[] };
  for (const m of flows) {
    for (const [sid, record] of m.streams) (streams.flow.push(m.flowId), streams.id.push(sid), streams.record.push(record));
    for (const { scope, key, value } of m.headwaters.values()) {
      if (value === null) (del.flow.push(m.flowId), del.scope.push(scope), del.key.push(key));
      else (set.flow.push(m.flowId), set.scope.push(scope), set.key.push(key), set.value.push(value));
    }
    for (const seq of m.consumed) (consumed.flow.push(m.flowId), consumed.seq.push(seq));
  }
  // in the order of the statement's parameters, $25-$36
  return [streams.flow, streams.id, streams.record, set.flow, set.scope, set.key, set.value, del.flow, del.scope, del.key, consumed.flow, consumed.seq];
}

/**
 * Applies a group in one statement (see {@link writeStatement}); `notice` is sent on `channel`
 * when a flow of the group waits to be claimed.
 *
 * The parameters are built by small loops, not one expression of three dozen closures: V8's
 * optimising compiler took 0.4-0.5 s of CPU to compile that expression, twice per process, which
 * with two engines on two cores was a tenth of what the machine had in a W6 phase.
 */
export async function applyChanges(db: Db, s: string, flows: Merged[], channel: string, notice: string): Promise<WriteResult> {
  let statement = statements.get(s);
  if (statement === undefined) {
    statement = { name: `vastflow_write_${statements.size}`, text: writeStatement(s) };
    statements.set(s, statement);
  }
  const checked: Merged[] = [];
  const creates: Merged[] = [];
  const updates: Merged[] = [];
  let runnable = false;
  for (const m of flows) {
    if (m.create !== undefined) creates.push(m);
    else {
      if (m.fence !== undefined) checked.push(m);
      if (m.header !== undefined) updates.push(m);
    }
    if (m.header?.status === 'waiting') runnable = true;
  }
  // creates in requestId order, so that two writers of the same requestIds cannot deadlock
  creates.sort((a, b) => cmp(a.header!.requestId, b.header!.requestId));
  const values: unknown[] = [
    checked.map((m) => m.flowId),
    checked.map((m) => m.fence!.owner),
    checked.map((m) => m.fence!.epoch),
    ...createColumns(creates),
    ...updateColumns(updates),
    ...rowColumns(flows),
    channel,
    runnable ? notice : null,
  ];
  const { rows } = await db.query<{ fenced: string[]; duplicates: string[] }>({ name: statement.name, text: statement.text, values });
  return { fenced: rows[0]!.fenced, duplicates: rows[0]!.duplicates };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
