import type { HistoryEntry, StreamRecord } from '../store/records.js';

/*
 * The records of a flow parked for long (see FlowRunner), kept as one JSON string until it runs
 * again. Each record is an array of its fields by position (RECORD), its history entries likewise
 * (ENTRY), an absent field as null and trailing ones left off: a quarter of the memory of the
 * records as objects (with their arrays and boxed numbers), half of their JSON with keys. A record
 * with a field not named here (none today) is kept as an object, so that nothing is lost.
 */

const RECORD = [
  'state',
  'attempts',
  'cycles',
  'dueAt',
  'phase',
  'startedAt',
  'endedAt',
  'errors',
  'error',
  'history',
  'choice',
  'touched',
  'completion',
  'compensation',
] as const satisfies ReadonlyArray<keyof StreamRecord>;
const HISTORY = RECORD.indexOf('history');
const ENTRY = ['attempt', 'phase', 'startedAt', 'endedAt', 'error'] as const satisfies ReadonlyArray<keyof HistoryEntry>;

/** The defined fields of `o`, by position in `keys`; undefined when `o` has a defined field not among them. */
function positional(o: object, keys: readonly string[]): unknown[] | undefined {
  const values: unknown[] = [];
  let n = 0;
  for (let i = 0; i < keys.length; i++) {
    const v = (o as Record<string, unknown>)[keys[i]!];
    if (v === undefined) continue;
    // (null stands for absent here: a field that holds null is kept by keeping the object)
    if (v === null) return undefined;
    values[i] = v;
    n++;
  }
  for (const k in o) if ((o as Record<string, unknown>)[k] !== undefined) n--;
  if (n !== 0) return undefined;
  // holes print as null
  for (let i = 0; i < values.length; i++) if (!(i in values)) values[i] = null;
  return values;
}

/** The object of `values` by position in `keys` (nulls left out). */
function named<T>(values: readonly unknown[], keys: readonly string[]): T {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < values.length; i++) if (values[i] !== null) o[keys[i]!] = values[i];
  return o as T;
}

/** A flow's records as one flat string. */
export function packRecords(records: readonly StreamRecord[]): string {
  const items = records.map((r): unknown => {
    const history = r.history?.map((e) => positional(e, ENTRY));
    if (history?.includes(undefined) === true) return r;
    const values = positional(r, RECORD);
    if (values === undefined) return r;
    if (history !== undefined) values[HISTORY] = history;
    return values;
  });
  const json = JSON.stringify(items);
  // V8's JSON.stringify returns a rope of the pieces it grew the output in (a third more memory):
  // reading a character makes it one flat string
  json.charCodeAt(0);
  return json;
}

/** The records `packRecords` packed. */
export function unpackRecords(json: string): StreamRecord[] {
  return (JSON.parse(json) as unknown[]).map((item) => {
    if (!Array.isArray(item)) return item as StreamRecord;
    const r = named<StreamRecord>(item, RECORD);
    if (r.history !== undefined) r.history = (r.history as unknown as unknown[][]).map((e) => named<HistoryEntry>(e, ENTRY));
    return r;
  });
}
