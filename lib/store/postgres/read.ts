import type { JsonObject } from '../../model/json.js';
import type { FlowHeader, StoredFlow, StreamRecord } from '../records.js';

/**
 * The columns that read a whole flow from a row of `flows` named `f` (or a CTE with its `id`,
 * `header` and `blueprint`): its streams as one JSON object, its headwaters as `[scope, key, value]`.
 */
export const flowColumns = (s: string, f: string): string =>
  `${f}.header, ${f}.blueprint,
   (SELECT COALESCE(json_object_agg(st.stream_id, st.record), '{}') FROM ${s}.streams st WHERE st.flow_id = ${f}.id) AS streams,
   (SELECT COALESCE(json_agg(json_build_array(h.scope, h.key, h.value)), '[]') FROM ${s}.headwaters h WHERE h.flow_id = ${f}.id) AS hw`;

/**
 * The ids of unfinished flows, as three parts that each match one partial index: held by an
 * engine (flows_owner), held by none and not waiting (flows_free), and waiting (flows_waiting).
 */
export const unfinishedIds = (s: string): string =>
  `SELECT id FROM ${s}.flows WHERE owner IS NOT NULL AND unfinished
   UNION SELECT id FROM ${s}.flows WHERE unfinished AND status <> 'waiting' AND owner IS NULL
   UNION SELECT id FROM ${s}.flows WHERE status = 'waiting'`;

/** The row {@link flowColumns} read, as a stored flow. */
export function storedFlow(row: Record<string, unknown>): StoredFlow {
  const headwaters: Record<string, JsonObject> = {};
  for (const [scope, key, value] of row['hw'] as Array<[string, string, JsonObject[string]]>) (headwaters[scope] ??= {})[key] = value;
  return {
    header: row['header'] as FlowHeader,
    blueprint: row['blueprint'] as StoredFlow['blueprint'],
    streams: row['streams'] as Record<string, StreamRecord>,
    headwaters,
  };
}
