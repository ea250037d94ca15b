import type pg from 'pg';
import type { Claim, ClaimQuery } from '../records.js';
import { isConnectionError } from './errors.js';
import type { Db } from './db.js';
import { flowColumns, storedFlow } from './read.js';
import { NO_DUE } from './schema.js';

/** A flow's owner is no live engine (it has no heartbeat row, or its lease ran out by $now). */
const orphaned = (s: string, now: string): string =>
  `(c.owner IS NULL OR NOT EXISTS (SELECT 1 FROM ${s}.workers w WHERE w.id = c.owner AND w.expires_at >= ${now}))`;

/** Unfinished, not waiting, and due by $now. */
const due = (now: string): string => `c.unfinished AND c.status <> 'waiting' AND COALESCE(c.due_at, ${NO_DUE}) <= ${now}`;
const dueOrder = `COALESCE(c.due_at, ${NO_DUE}), c.id`;

/** Held by an engine whose heartbeat row says its lease ran out by $now (the flows_owner index, per dead engine). */
const heldByDead = (s: string, now: string): string => `c.owner IN (SELECT w.id FROM ${s}.workers w WHERE w.expires_at < ${now})`;

/** Ids of unfinished flows due by `now` and held by no live engine, earliest due first. */
export async function listDue(db: Db, s: string, now: number, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT c.id FROM ${s}.flows c WHERE ${due('$1')} AND ${orphaned(s, '$1')} ORDER BY ${dueOrder} LIMIT $2`, [
    now,
    limit,
  ]);
  return rows.map((r) => r.id);
}

// $1 owner, $2 now, $3 limit, $4 classes (null: any), $5 ids
function take(s: string, where: string, order: string, load: boolean): string {
  const update = `UPDATE ${s}.flows f SET owner = $1, epoch = CASE WHEN f.owner = $1 THEN f.epoch ELSE f.epoch + 1 END
   FROM (SELECT c.id FROM ${s}.flows c WHERE ${where} AND ($4::text[] IS NULL OR c.classes <@ $4::text[])
         ORDER BY ${order} LIMIT $3 FOR NO KEY UPDATE SKIP LOCKED) pick
   WHERE f.id = pick.id
   RETURNING f.id, f.epoch, COALESCE(f.due_at, ${NO_DUE}) AS due, f.seq${load ? ', f.header, f.blueprint' : ''}`;
  // the claimed flows read in the same statement: the engine runs them without another read
  // with whether its inbox holds a command: most hold none, and the engine then reads none
  const inbox = `EXISTS (SELECT 1 FROM ${s}.commands m WHERE m.flow_id = t.id) AS has_commands`;
  return load ? `WITH t AS (${update}) SELECT t.id, t.epoch, t.due, t.seq, ${flowColumns(s, 't')}, ${inbox} FROM t` : update;
}

type Taken = { id: string; epoch: string; due: string; seq: string } & Record<string, unknown>;

/**
 * Claims flows for `query.owner`, each in one statement that skips the rows another claimer has
 * locked, so that two claimers never take the same flow. Flows held by others are found through
 * the heartbeat rows whose lease ran out; `sweep` also finds those whose owner has no row at all
 * (a row an operator deleted), at the cost of looking at every held flow.
 */
export async function claim(db: Db, s: string, query: ClaimQuery, sweep: boolean): Promise<Claim[]> {
  const classes = query.classes === undefined ? null : [...query.classes];
  const load = query.load === true;
  const dueOf = new Map<string, string>();
  const out = (rows: Taken[]): Claim[] =>
    rows.map((r) => {
      dueOf.set(r.id, r.due);
      if (!load) return { flowId: r.id, epoch: Number(r.epoch) };
      const claimed: Claim = { flowId: r.id, epoch: Number(r.epoch), flow: storedFlow(r) };
      if (r['has_commands'] === false) claimed.inboxEmpty = true;
      return claimed;
    });
  if (query.limit <= 0) return [];
  if (query.ids !== undefined) {
    if (query.ids.length === 0) return [];
    // the owner's own flows too (recovery of the flows it knows): they keep their epoch
    const where = `c.id = ANY($5::text[]) AND c.unfinished AND (c.owner = $1 OR ${orphaned(s, '$2')})`;
    const { rows } = await db.query<Taken>(take(s, where, 'c.id', load), [query.owner, query.now, query.limit, classes, [...query.ids]]);
    const order = new Map(query.ids.map((id, i) => [id, i]));
    return out(rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!));
  }
  // the planner must walk the queue's index in order and stop at the limit: a fresh or fast-changing
  // table has no statistics that say the queue is long, and a plan that reads and sorts all of it
  // costs a read of every waiting flow per claim (40 ms at 10,000). No sort: the ordered index scan.
  // No JIT either: a sort the planner cannot avoid (a few flows of a dead engine) is costed as
  // disabled, and that cost would have the server compile the statement (150 ms).
  const client = await db.connect();
  try {
    await client.query('BEGIN; SET LOCAL enable_sort = off; SET LOCAL jit = off');
    const params = (limit: number): unknown[] => [query.owner, query.now, limit, classes];
    // held by no live engine: by one whose heartbeat row says its lease ran out (the owner index,
    // per dead engine); a sweep also finds owners that have no heartbeat row at all
    const dead = sweep ? `c.owner IS NOT NULL AND ${orphaned(s, '$2')}` : heldByDead(s, '$2');
    // due flows nobody holds (the flows_free index), then the due flows of dead engines
    const claims: Claim[] = [];
    for (const where of [`${due('$2')} AND c.owner IS NULL`, `${due('$2')} AND ${dead}`]) {
      const left = query.limit - claims.length;
      if (left <= 0) break;
      claims.push(...out((await client.query<Taken>(take(s, where, dueOrder, load), params(left))).rows));
    }
    claims.sort((a, b) => cmpNum(dueOf.get(a.flowId)!, dueOf.get(b.flowId)!) || cmp(a.flowId, b.flowId));
    // then waiting flows in queue order
    const left = query.limit - claims.length;
    if (left > 0) {
      const waiting = await client.query<Taken>(take(s, `c.status = 'waiting' AND (c.owner IS NULL OR ${dead})`, 'c.seq, c.id', load), params(left));
      claims.push(...out(waiting.rows.sort((a, b) => cmpNum(a.seq, b.seq) || cmp(a.id, b.id))));
    }
    await client.query('COMMIT');
    client.release();
    return claims;
  } catch (err) {
    if (isConnectionError(err)) client.release(err as Error);
    else {
      await client.query('ROLLBACK').then(
        () => client.release(),
        (e: unknown) => client.release(e as Error),
      );
    }
    throw err;
  }
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const cmpNum = (a: string, b: string): number => {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};
