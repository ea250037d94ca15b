import type pg from 'pg';
import { isUnfinished, type Fence, type FlowChange, type FlowHeader, type WriteResult } from '../records.js';

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
    if (c.streams !== undefined) for (const sid of Object.keys(c.streams)) m.streams.set(sid, JSON.stringify(c.streams[sid]));
    if (c.headwaters !== undefined) {
      for (const scope of Object.keys(c.headwaters)) {
        const delta = c.headwaters[scope]!;
        for (const key of Object.keys(delta.set)) m.headwaters.set(`${scope}\0${key}`, { scope, key, value: JSON.stringify(delta.set[key]) });
        for (const key of delta.del) m.headwaters.set(`${scope}\0${key}`, { scope, key, value: null });
      }
    }
    if (c.consumed !== undefined) m.consumed.push(...c.consumed);
  }
  for (const m of byFlow.values()) {
    if (m.create !== undefined && m.header === undefined) throw new TypeError(`flow ${m.flowId}: a create needs the flow's header`);
    // serialise the header here too, so that a bad value throws before the transaction
    if (m.header !== undefined) m.headerJson = JSON.stringify(m.header);
  }
  return [...byFlow.values()];
}

/** Runs a group's statements on `client`, inside the caller's transaction. */
export async function applyChanges(client: pg.PoolClient, s: string, flows: Merged[]): Promise<WriteResult & { runnable: boolean }> {
  const fenced: string[] = [];
  const duplicates: string[] = [];
  const dropped = new Set<string>();

  // fences first: lock the rows (in id order, so that two writers cannot deadlock) and compare
  const checked = flows.filter((m) => m.fence !== undefined && m.create === undefined);
  if (checked.length > 0) {
    const ids = checked.map((m) => m.flowId);
    const { rows } = await client.query<{ id: string; owner: string | null; epoch: string }>(
      `SELECT id, owner, epoch FROM ${s}.flows WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`,
      [ids],
    );
    const held = new Map(rows.map((r) => [r.id, r]));
    for (const m of checked) {
      const row = held.get(m.flowId);
      if (row === undefined || row.owner !== m.fence!.owner || Number(row.epoch) !== m.fence!.epoch) {
        fenced.push(m.flowId);
        dropped.add(m.flowId);
      }
    }
  }

  // creates: a requestId another flow already has drops that flow's change whole
  const creates = flows.filter((m) => m.create !== undefined).sort((a, b) => cmp(a.header!.requestId, b.header!.requestId));
  if (creates.length > 0) {
    const col = <T>(f: (m: Merged, h: FlowHeader) => T): T[] => creates.map((m) => f(m, m.header!));
    const { rows } = await client.query<{ id: string }>(
      `WITH made AS (INSERT INTO ${s}.flows (id, request_id, status, seq, created_at, updated_at, due_at, unfinished, owner, epoch, classes, header, blueprint)
       SELECT u.id, u.request_id, u.status, u.seq, u.created_at, u.updated_at, u.due_at, u.unfinished, u.owner, u.epoch,
              ARRAY(SELECT jsonb_array_elements_text(u.classes::jsonb)), u.header::jsonb, u.blueprint::jsonb
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::boolean[],
                   $9::text[], $10::bigint[], $11::text[], $12::text[], $13::text[])
            AS u(id, request_id, status, seq, created_at, updated_at, due_at, unfinished, owner, epoch, classes, header, blueprint)
       ON CONFLICT (request_id) DO NOTHING
       RETURNING id, status, updated_at),
       feed AS (INSERT INTO ${s}.changes (flow_id, status, updated_at) SELECT id, status, updated_at FROM made)
       SELECT id FROM made`,
      [
        col((m) => m.flowId),
        col((_, h) => h.requestId),
        col((_, h) => h.status),
        col((_, h) => h.seq),
        col((_, h) => h.createdAt),
        col((_, h) => h.updatedAt),
        col((_, h) => h.dueAt ?? null),
        col((_, h) => isUnfinished(h)),
        col((m) => m.fence?.owner ?? null),
        col((m) => m.fence?.epoch ?? 0),
        col((m) => JSON.stringify(m.create!.classes)),
        col((m) => m.headerJson!),
        col((m) => m.create!.blueprint),
      ],
    );
    const made = new Set(rows.map((r) => r.id));
    for (const m of creates) {
      if (!made.has(m.flowId)) {
        duplicates.push(m.flowId);
        dropped.add(m.flowId);
      }
    }
  }

  const live = flows.filter((m) => !dropped.has(m.flowId));
  const updates = live.filter((m) => m.header !== undefined && m.create === undefined);
  if (updates.length > 0) {
    await client.query(
      `WITH changed AS (
         UPDATE ${s}.flows f SET status = u.status, seq = u.seq, updated_at = u.updated_at, due_at = u.due_at, unfinished = u.unfinished,
                header = u.header::jsonb,
                -- a finished flow made unfinished again (redriven) is held by no engine: any may claim it
                owner = CASE WHEN u.unfinished AND NOT f.unfinished THEN NULL ELSE f.owner END
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::boolean[], $7::text[])
              AS u(id, status, seq, updated_at, due_at, unfinished, header)
         WHERE f.id = u.id
         RETURNING f.id, f.status, f.updated_at)
       INSERT INTO ${s}.changes (flow_id, status, updated_at) SELECT id, status, updated_at FROM changed
       ON CONFLICT (flow_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at,
         change_xid = pg_current_xact_id(), change_seq = nextval('${s}.change_seq')`,
      [
        updates.map((m) => m.flowId),
        updates.map((m) => m.header!.status),
        updates.map((m) => m.header!.seq),
        updates.map((m) => m.header!.updatedAt),
        updates.map((m) => m.header!.dueAt ?? null),
        updates.map((m) => isUnfinished(m.header!)),
        updates.map((m) => m.headerJson!),
      ],
    );
  }

  const sFlow: string[] = [];
  const sId: string[] = [];
  const sRec: string[] = [];
  const setFlow: string[] = [];
  const setScope: string[] = [];
  const setKey: string[] = [];
  const setValue: string[] = [];
  const delFlow: string[] = [];
  const delScope: string[] = [];
  const delKey: string[] = [];
  const cFlow: string[] = [];
  const cSeq: number[] = [];
  for (const m of live) {
    for (const [sid, record] of m.streams) (sFlow.push(m.flowId), sId.push(sid), sRec.push(record));
    for (const { scope, key, value } of m.headwaters.values()) {
      if (value === null) (delFlow.push(m.flowId), delScope.push(scope), delKey.push(key));
      else (setFlow.push(m.flowId), setScope.push(scope), setKey.push(key), setValue.push(value));
    }
    for (const seq of m.consumed) (cFlow.push(m.flowId), cSeq.push(seq));
  }
  if (sFlow.length > 0) {
    await client.query(
      `INSERT INTO ${s}.streams (flow_id, stream_id, record)
       SELECT u.f, u.sid, u.r::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS u(f, sid, r)
       ON CONFLICT (flow_id, stream_id) DO UPDATE SET record = excluded.record`,
      [sFlow, sId, sRec],
    );
  }
  if (setFlow.length > 0) {
    await client.query(
      `INSERT INTO ${s}.headwaters (flow_id, scope, key, value)
       SELECT u.f, u.sc, u.k, u.v::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(f, sc, k, v)
       ON CONFLICT (flow_id, scope, key) DO UPDATE SET value = excluded.value`,
      [setFlow, setScope, setKey, setValue],
    );
  }
  if (delFlow.length > 0) {
    await client.query(
      `DELETE FROM ${s}.headwaters h USING unnest($1::text[], $2::text[], $3::text[]) AS u(f, sc, k)
       WHERE h.flow_id = u.f AND h.scope = u.sc AND h.key = u.k`,
      [delFlow, delScope, delKey],
    );
  }
  if (cFlow.length > 0) {
    await client.query(`DELETE FROM ${s}.commands c USING unnest($1::text[], $2::bigint[]) AS u(f, seq) WHERE c.seq = u.seq AND c.flow_id = u.f`, [
      cFlow,
      cSeq,
    ]);
  }
  return { fenced, duplicates, runnable: live.some((m) => m.header?.status === 'waiting') };
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
