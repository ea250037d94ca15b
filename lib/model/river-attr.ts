import { z } from 'zod';
import { DURATION_FORMS, DURATION_MAX, durationMs, MAX_DURATION_MS, type Duration } from '../clock/duration.js';
import { VastflowError } from '../errors/vastflow-error.js';

/**
 * How the engine runs a river: retries, polling, timeout, durability. Set its fields in
 * `River.update(attr)`; every field is optional. Durations take ms or `'500ms' '2s' '5m' '1h' '7d'`,
 * up to `'3650d'` (10 years); a longer one makes `start()` reject with E_INVALID_ATTR.
 */
export interface RiverAttr {
  /** Extra attempts of `flow()` after it throws. @default 0 */
  retryTimes?: number;
  /** Wait before the first retry. @default '1s' */
  retryInterval?: Duration;
  /** Multiplier applied to the wait after each retry, from 1 to 1000. @default 1 */
  retryBackoff?: number;
  /** Cap on the wait between attempts. @default none */
  retryMaxInterval?: Duration;
  /** Fraction (0..1) of each wait drawn at random, to spread retries of many flows. @default 0 */
  retryJitter?: number;
  /**
   * Most calls of `cycle()`; 0 means the river has no cycle. A river whose class defines `cycle()`
   * must set it (0 turns its cycle off), and a value > 0 needs a `cycle()`: else `start()` rejects
   * with E_INVALID_ATTR. @default 0
   */
  cycleTimes?: number;
  /** Wait before each call of `cycle()`. @default '1s' */
  cycleInterval?: Duration;
  /** Limit on one attempt of `flow()` and one call of `cycle()`. @default none */
  timeout?: Duration;
  /** Checkpoint the headwaters into the store after `flow()` and after the cycle. @default false */
  durable?: boolean;
  /** Once started, run to the end (with the branch's later atomic rivers) even if the flow fails or is cancelled. @default false */
  atomic?: boolean;
}

const duration = (field: string) =>
  z
    .custom<Duration>((v) => durationMs(v) !== undefined, { message: `${field} must be ${DURATION_FORMS}` })
    .transform((v) => durationMs(v)!)
    .refine((ms) => ms <= MAX_DURATION_MS, `${field} must be ${DURATION_MAX}`);

/** The cap on `retryBackoff`: past it, a few retries would wait longer than any timer. */
const MAX_BACKOFF = 1000;

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** The schema of RiverAttr; its defaults are the documented ones. */
export const riverAttrSchema = z.strictObject({
  retryTimes: count.default(0),
  retryInterval: duration('retryInterval').default(1000),
  retryBackoff: z.number().min(1).max(MAX_BACKOFF).default(1),
  retryMaxInterval: duration('retryMaxInterval').optional(),
  retryJitter: z.number().min(0).max(1).default(0),
  cycleTimes: count.default(0),
  cycleInterval: duration('cycleInterval').default(1000),
  timeout: duration('timeout')
    .refine((ms) => ms > 0, 'timeout must be > 0')
    .optional(),
  durable: z.boolean().default(false),
  atomic: z.boolean().default(false),
});

/** A river's attributes after defaults, durations in milliseconds. */
export interface ResolvedRiverAttr {
  retryTimes: number;
  retryIntervalMs: number;
  retryBackoff: number;
  retryMaxIntervalMs: number | undefined;
  retryJitter: number;
  cycleTimes: number;
  cycleIntervalMs: number;
  timeoutMs: number | undefined;
  durable: boolean;
  atomic: boolean;
}

// update() usually sets the same few fields for every instance of a class: remember what a given
// raw attr resolved to, so zod runs once per distinct attr rather than once per river started.
const resolved = new Map<string, ResolvedRiverAttr>();

/**
 * Checks the attrs a river's `update()` set and applies the defaults. With `ownCycle` (whether the
 * river's class defines its own `cycle()`), also checks that the cycle is configured: a river with
 * a `cycle()` must set `cycleTimes` (0 turns the cycle off), and `cycleTimes > 0` needs a `cycle()`.
 * @throws VastflowError E_INVALID_ATTR naming the river and the field.
 */
export function resolveRiverAttr(raw: RiverAttr, river: string, ownCycle?: boolean): ResolvedRiverAttr {
  const out = resolveFields(raw, river);
  // checked on every call, cached or not: the cache key is the raw attr, not the river's class
  if (ownCycle === true && raw.cycleTimes === undefined) {
    throw new VastflowError('E_INVALID_ATTR', `river ${river}: defines cycle() but sets no cycleTimes; set attr.cycleTimes, or 0 to turn the cycle off`);
  }
  if (ownCycle === false && out.cycleTimes > 0) {
    throw new VastflowError(
      'E_INVALID_ATTR',
      `river ${river}: invalid attr field cycleTimes: ${out.cycleTimes} polls, but the river defines no cycle() to call`,
    );
  }
  return out;
}

function resolveFields(raw: RiverAttr, river: string): ResolvedRiverAttr {
  const key = cacheKey(raw);
  const hit = key === undefined ? undefined : resolved.get(key);
  if (hit !== undefined) return hit;
  const parsed = riverAttrSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : ((issue as { keys?: string[] }).keys?.join(', ') ?? '?');
    const what = issue.code === 'unrecognized_keys' ? `unknown field ${field}` : `field ${field}: ${issue.message}`;
    throw new VastflowError('E_INVALID_ATTR', `river ${river}: invalid attr ${what}`);
  }
  const a = parsed.data;
  const out: ResolvedRiverAttr = Object.freeze({
    retryTimes: a.retryTimes,
    retryIntervalMs: a.retryInterval,
    retryBackoff: a.retryBackoff,
    retryMaxIntervalMs: a.retryMaxInterval,
    retryJitter: a.retryJitter,
    cycleTimes: a.cycleTimes,
    cycleIntervalMs: a.cycleInterval,
    timeoutMs: a.timeout,
    durable: a.durable,
    atomic: a.atomic,
  });
  if (key !== undefined && resolved.size < 10_000) resolved.set(key, out);
  return out;
}

/** A key for the cache when every value is a plain primitive; undefined otherwise (no caching). */
function cacheKey(raw: RiverAttr): string | undefined {
  let key = '';
  for (const k of Object.keys(raw)) {
    const v = (raw as Record<string, unknown>)[k];
    const t = typeof v;
    if (t !== 'number' && t !== 'string' && t !== 'boolean' && v !== undefined) return undefined;
    if (t === 'number' && !Number.isFinite(v)) return undefined;
    key += `${k}=${t}:${String(v)};`;
  }
  return key;
}
