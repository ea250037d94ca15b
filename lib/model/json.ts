import { VastflowError } from '../errors/vastflow-error.js';

/** A JSON value: what headwaters, configs and `reqInfo` may hold. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** A JSON object. */
export type JsonObject = { [key: string]: Json };

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return 'a bigint';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'function') return 'a function';
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
  return `an instance of ${proto?.constructor?.name ?? 'an unknown class'}`;
}

/**
 * How deep JSON values may nest (objects and arrays): headwaters values, configs, `reqInfo`, and
 * the JSON parts of a blueprint. Deeper ones are rejected, not walked until the stack overflows.
 */
export const MAX_JSON_DEPTH = 256;

/**
 * How many objects and arrays one JSON value may hold, counting a sub-object each time it appears:
 * a value built in code that shares sub-objects (`a = { x: a, y: a }`, forty times) would otherwise
 * be copied and serialized into trillions of them.
 */
export const MAX_JSON_OBJECTS = 1_000_000;

/** A key that would set an object's prototype instead of a property: never stored. */
export const PROTO_KEY = '__proto__';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `text` cannot be a name the store keeps as it is (a requestId, a headwaters key, a river's
 * name), or undefined when it can: a lone UTF-16 surrogate (text cut in the middle of a pair) is
 * written as U+FFFD in UTF-8, so two such names would be one in the store.
 */
export function illFormed(text: string): string | undefined {
  const at = LONE_SURROGATE.exec(text)?.index;
  if (at === undefined) return undefined;
  return `it holds a lone surrogate (U+${text.charCodeAt(at).toString(16).toUpperCase()}) at index ${at}, which a store keeps as U+FFFD`;
}

function fail(what: string, path: string, value: unknown, reason?: string): never {
  const at = path === '' ? '' : ` at ${path}`;
  throw new VastflowError('E_NOT_SERIALIZABLE', `${what}${at} is not JSON: ${reason ?? describe(value)}`);
}

/**
 * A deep, frozen copy of `value` after checking that it is JSON, or E_NOT_SERIALIZABLE naming
 * `what` (e.g. `headwaters key "order"`) and the path inside the value (e.g. `items[2].price`).
 * Also rejected: objects and arrays nested more than {@link MAX_JSON_DEPTH} deep or more than
 * {@link MAX_JSON_OBJECTS} of them, and `__proto__`
 * keys (`JSON.parse` makes them own keys; copied, they would set the copy's prototype).
 */
export function frozenJsonCopy(value: unknown, what: string): Json {
  try {
    return copy(value, what, '', undefined);
  } catch (err) {
    if (err instanceof VastflowError) throw err;
    // a Proxy's trap threw (its keys, its prototype): where inside it is not known
    throw new VastflowError('E_NOT_SERIALIZABLE', `${what} cannot be read: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The objects and arrays above a value (their count is its depth), and how many were copied so far. */
interface Walk {
  ancestors: Set<object>;
  objects: number;
}

/** `walk`: made at the first object or array (a string, boolean or number needs none). */
function copy(value: unknown, what: string, path: string, walk: Walk | undefined): Json {
  if (walk !== undefined && typeof value === 'object' && value !== null) {
    if (walk.ancestors.size >= MAX_JSON_DEPTH) fail(what, path, value, `nested more than ${MAX_JSON_DEPTH} levels deep`);
    if (++walk.objects > MAX_JSON_OBJECTS)
      fail(what, path, value, `more than ${MAX_JSON_OBJECTS} objects and arrays (a shared one counts each time it appears)`);
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) fail(what, path, value);
      return value;
    case 'object':
      break;
    default:
      fail(what, path, value);
  }
  if (value === null) return null;
  if (walk === undefined) walk = { ancestors: new Set(), objects: 1 };
  else if (walk.ancestors.has(value)) fail(what, path, value, 'a cycle');
  const ancestors = walk.ancestors;
  ancestors.add(value);
  let out: Json;
  if (Array.isArray(value)) {
    const arr: Json[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) arr[i] = copy(value[i], what, `${path}[${i}]`, walk);
    out = Object.freeze(arr) as Json[];
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) fail(what, path, value);
    const obj: JsonObject = {};
    for (const key of Object.keys(value)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (key === PROTO_KEY) fail(what, at, value, `a "${PROTO_KEY}" key, which would set the prototype`);
      let child: unknown;
      try {
        child = (value as Record<string, unknown>)[key];
      } catch (err) {
        fail(what, at, value, `reading it threw (a getter or a Proxy): ${err instanceof Error ? err.message : String(err)}`);
      }
      obj[key] = copy(child, what, at, walk);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) fail(what, path, value, 'a symbol key');
    out = Object.freeze(obj);
  }
  ancestors.delete(value);
  return out;
}

/** A deep, mutable copy of a value already known to be JSON. */
export function cloneJson<T extends Json>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => cloneJson(v)) as T;
  const out: JsonObject = {};
  for (const key of Object.keys(value)) out[key] = cloneJson((value as JsonObject)[key]!);
  return out as T;
}
