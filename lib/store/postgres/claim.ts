import type pg from 'pg';
import type { Claim, ClaimQuery } from '../records.js';
import { flowColumns, storedFlow } from './read.js';
import { NO_DUE } from './schema.js';

/** A flow's owner is no live engine (it has no heartbeat row, or its lease ran out by $now). */
const orphaned = (s: string, now: string): string =>
  `(c.owner IS NULL OR NOT EXISTS (SELECT 1 FROM ${s}.workers w WHERE w.id = c.owner AND w.expires_at >= ${now}))`;

/** The due flows held by no live engine: the part of the due index up to $now. */
const dueWhere = (s: string, now: string): string =>
  `c.unfinished AND c.status <> 'waiting' AND COALESCE(c.due_at, ${NO_DUE}) <= ${now} AND ${orphaned(s, now)}`;
const dueOrder = `COALESCE(c.due_at, ${NO_DUE}), c.id`;

/** Ids of unfinished flows due by `now` and held by no live engine, earliest due first. */
export async function listDue(db: pg.Pool, s: string, now: number, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT c.id FROM ${s}.flows c WHERE ${dueWhere(s, '$1')} ORDER BY ${dueOrder} LIMIT $2`, [now, limit]);
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
  return load ? `WITH t AS (${update}) SELECT t.id, t.epoch, t.due, t.seq, ${flowColumns(s, 't')} FROM t` : update;
}

type Taken = { id: string; epoch: string; due: string; seq: string } & Record<string, unknown>;

/**
 * Claims flows for `query.owner`, each in one statement that skips the rows another claimer has
 * locked, so that two claimers never take the same flow.
 */
export async function claim(db: pg.Pool, s: string, query: ClaimQuery): Promise<Claim[]> {
  const classes = query.classes === undefined ? null : [...query.classes];
  const load = query.load === true;
  const out = (rows: Taken[]): Claim[] =>
    rows.map((r) => (load ? { flowId: r.id, epoch: Number(r.epoch), flow: storedFlow(r) } : { flowId: r.id, epoch: Number(r.epoch) }));
  if (query.limit <= 0) return [];
  if (query.ids !== undefined) {
    if (query.ids.length === 0) return [];
    // the owner's own flows too (recovery of the flows it knows): they keep their epoch
    const where = `c.id = ANY($5::text[]) AND c.unfinished AND (c.owner = $1 OR ${orphaned(s, '$2')})`;
    const { rows } = await db.query<Taken>(take(s, where, 'c.id', load), [query.owner, query.now, query.limit, classes, [...query.ids]]);
    const order = new Map(query.ids.map((id, i) => [id, i]));
    return out(rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!));
  }
  const due = await db.query<Taken>(take(s, dueWhere(s, '$2'), dueOrder, load), [query.owner, query.now, query.limit, classes]);
  const claims = out(due.rows.sort((a, b) => cmpNum(a.due, b.due) || cmp(a.id, b.id)));
  const left = query.limit - claims.length;
  if (left <= 0) return claims;
  const waiting = await db.query<Taken>(take(s, `c.status = 'waiting' AND ${orphaned(s, '$2')}`, 'c.seq, c.id', load), [query.owner, query.now, left, classes]);
  return claims.concat(out(waiting.rows.sort((a, b) => cmpNum(a.seq, b.seq) || cmp(a.id, b.id))));
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const cmpNum = (a: string, b: string): number => {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
};
