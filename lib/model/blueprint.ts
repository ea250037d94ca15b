import { z } from 'zod';
import { VastflowError } from '../errors/vastflow-error.js';
import { Atlantic } from './atlantic.js';
import { Basin } from './basin.js';
import { blueprintProblem, STREAM_KINDS, type StreamKind } from './blueprint-problem.js';
import { Dam } from './dam.js';
import { addForkBranch, Fork } from './fork.js';
import { illFormed, MAX_JSON_DEPTH, PROTO_KEY, type Json, type JsonObject } from './json.js';
import { appendBranch, ParallelRiver } from './parallel-river.js';
import { River } from './river.js';
import { nameOf, type Stream } from './stream.js';
import { StreamAddress } from './stream-tree.js';

/** A stream in a blueprint. */
export type BlueprintStream =
  | { river: string; config?: Json; color?: string }
  | { parallel: BlueprintStream[][]; color?: string }
  | { basin: { color?: string; streams: BlueprintStream[] } }
  | { fork: string; config?: Json; color?: string; branches: Record<string, BlueprintStream[]> }
  | BlueprintDam;

/** A Dam in a blueprint: `{ "dam": "approval", "timeout": "7d", ... }`, or `{ "dam": null, "delay": "3d" }`. */
export interface BlueprintDam {
  dam: string | null;
  timeout?: string | number;
  key?: string;
  /** What a timeout does; omitted → 'fail'. `toJSON()` writes it for every Dam with a timeout. */
  onTimeout?: 'fail' | 'continue';
  delay?: string | number;
  color?: string;
}

/** The JSON form of a flow (see docs/blueprints.md). */
export interface Blueprint {
  vastflow: 1;
  requestId?: string;
  headwaters?: JsonObject;
  reqInfo?: Json;
  streams: BlueprintStream[];
  atlantic?: string;
}

const name = z.string().min(1);
const json = z.json().meta({ id: 'Json', description: 'any JSON value' });

const durationJson = z.union([z.number().nonnegative(), z.string().min(1)]).describe("ms, or a duration such as '30s', '7d'");
const color = name.describe('a label shown in logs, contexts and diagrams');

// One member per kind of stream, united in the order of STREAM_KINDS.
const streamMembers = (): Record<StreamKind, z.ZodType> => ({
  river: z
    .strictObject({
      river: name.describe('the registered name of a River class'),
      config: json.optional().describe("the river's JSON config (its constructor argument)"),
      color: color.optional(),
    })
    .describe('one river'),
  parallel: z
    .strictObject({
      parallel: z.array(z.array(streamSchema)).describe('branches run at the same time; each branch is a sequence'),
      color: color.optional(),
    })
    .describe('a ParallelRiver'),
  basin: z
    .strictObject({
      basin: z.strictObject({ color: color.optional(), streams: z.array(streamSchema).describe('run in sequence on an isolated copy of the headwaters') }),
    })
    .describe('a Basin'),
  fork: z
    .strictObject({
      fork: name.describe('the registered name of a Fork class'),
      config: json.optional(),
      color: color.optional(),
      branches: z.record(name, z.array(streamSchema)).describe('the branches by name; choose() picks one'),
    })
    .describe('a Fork'),
  dam: z
    .strictObject({
      dam: name.nullable().describe('the name of the message it waits for; null for a durable sleep'),
      timeout: durationJson.optional().describe('no message within this time: E_TIMEOUT, or go on with onTimeout "continue"'),
      key: name.optional().describe('the headwaters key of the payload; default: the message name'),
      onTimeout: z.enum(['fail', 'continue']).optional().describe('what a timeout does; omitted → "fail"; toJSON() writes it for every Dam with a timeout'),
      delay: durationJson.optional().describe('a durable sleep: opens once this time has passed'),
      color: color.optional(),
    })
    .refine((d) => d.dam !== null || d.delay !== undefined, { message: 'a Dam without a message name ("dam": null) is a durable sleep and needs "delay"' })
    .refine((d) => d.dam === null || d.delay === undefined, { message: 'a named Dam takes "timeout", not "delay"' })
    .describe('a Dam'),
});

const streamSchema: z.ZodType<BlueprintStream> = z.lazy(() => {
  const members = streamMembers();
  return z.union(STREAM_KINDS.map((k) => members[k])).meta({ id: 'Stream' });
}) as z.ZodType<BlueprintStream>;

/** The zod schema of a blueprint: the one definition of the format. */
export const blueprintSchema = z
  .strictObject({
    vastflow: z.literal(1).describe('the format version'),
    requestId: name.optional().describe("the flow's idempotency key; omitted → a fresh id"),
    headwaters: z.record(z.string(), json).optional().describe('the initial headwaters'),
    reqInfo: json.optional().describe('JSON about the request, persisted with the flow'),
    streams: z.array(streamSchema).describe('the flow: streams run in order'),
    atlantic: name.optional().describe('the registered name of the Atlantic class; omitted → one that does nothing'),
  })
  .meta({ title: 'vastflow blueprint', description: 'A vastflow flow as JSON: Andes.toJSON() writes it, Andes.fromJSON() draws it.' });

/** The JSON Schema (draft 2020-12) of a blueprint, generated from {@link blueprintSchema}. */
export function blueprintJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(blueprintSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

/**
 * How deep streams may nest in a blueprint, and in a drawing at `start()`: a top-level stream is at
 * depth 1, a stream in its basin, parallel branch or fork branch at 2, and so on.
 */
export const MAX_STREAM_DEPTH = 64;

/**
 * Validates a blueprint. Its depth and keys are checked first, without recursion: zod's recursive
 * parse would overflow the stack on deep input.
 * @throws VastflowError E_BLUEPRINT with the path of the first problem.
 */
export function parseBlueprint(input: unknown): Blueprint {
  checkDepthAndKeys(input);
  const parsed = blueprintSchema.safeParse(input);
  if (parsed.success) return parsed.data as Blueprint;
  const issue = blueprintProblem(parsed.error.issues, input);
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  throw new VastflowError('E_BLUEPRINT', `blueprint: at ${path}: ${issue.message}`);
}

type Path = readonly (string | number)[];

function blueprintError(path: Path, problem: string): VastflowError {
  return new VastflowError('E_BLUEPRINT', `blueprint: at ${path.length > 0 ? path.join('.') : '(root)'}: ${problem}`);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Rejects a `__proto__` key of an object in the blueprint's structure. */
function checkKeys(obj: Record<string, unknown>, path: Path): void {
  if (Object.hasOwn(obj, PROTO_KEY)) throw blueprintError([...path, PROTO_KEY], `a "${PROTO_KEY}" key is not allowed`);
}

/**
 * Walks the parts of the input that zod would recurse into (streams and JSON values), with an
 * explicit stack: streams past MAX_STREAM_DEPTH, JSON past MAX_JSON_DEPTH and `__proto__` keys are
 * E_BLUEPRINT naming the path. Anything else of the wrong shape is left for zod to report.
 */
function checkDepthAndKeys(input: unknown): void {
  if (!isRecord(input)) return;
  checkKeys(input, []);
  const requestId = input['requestId'];
  if (typeof requestId === 'string' && requestId.trim() === '')
    throw blueprintError(['requestId'], `must be a non-empty string, got ${JSON.stringify(requestId)}`);
  const requestIdFault = typeof requestId === 'string' ? illFormed(requestId) : undefined;
  if (requestIdFault !== undefined) throw blueprintError(['requestId'], `must be well-formed text: ${requestIdFault}`);
  if (isRecord(input['headwaters'])) {
    checkKeys(input['headwaters'], ['headwaters']);
    if (Object.hasOwn(input['headwaters'], '')) throw blueprintError(['headwaters'], 'a key must be a non-empty string, got ""');
    for (const k of Object.keys(input['headwaters'])) {
      const keyFault = illFormed(k);
      if (keyFault !== undefined) throw blueprintError(['headwaters'], `the key ${JSON.stringify(k)} must be well-formed text: ${keyFault}`);
    }
    for (const [k, v] of Object.entries(input['headwaters'])) checkJson(v, ['headwaters', k]);
  }
  checkJson(input['reqInfo'], ['reqInfo']);
  const streams: Array<{ value: unknown; path: Path; depth: number }> = [];
  const pushAll = (list: unknown, path: Path, depth: number): void => {
    if (!Array.isArray(list)) return;
    list.forEach((value, i) => streams.push({ value, path: [...path, i], depth }));
  };
  pushAll(input['streams'], ['streams'], 1);
  for (let s = streams.pop(); s !== undefined; s = streams.pop()) {
    const { value, path, depth } = s;
    if (!isRecord(value)) continue;
    if (depth > MAX_STREAM_DEPTH) throw blueprintError(path, `streams nested more than ${MAX_STREAM_DEPTH} deep`);
    checkKeys(value, path);
    checkJson(value['config'], [...path, 'config']);
    if (Array.isArray(value['parallel'])) value['parallel'].forEach((b, i) => pushAll(b, [...path, 'parallel', i], depth + 1));
    if (isRecord(value['basin'])) {
      checkKeys(value['basin'], [...path, 'basin']);
      pushAll(value['basin']['streams'], [...path, 'basin', 'streams'], depth + 1);
    }
    if (isRecord(value['branches'])) {
      checkKeys(value['branches'], [...path, 'branches']);
      for (const [b, branch] of Object.entries(value['branches'])) pushAll(branch, [...path, 'branches', b], depth + 1);
    }
  }
}

/** A JSON value of the blueprint: at most MAX_JSON_DEPTH deep, no `__proto__` keys. */
function checkJson(root: unknown, rootPath: Path): void {
  const stack: Array<{ value: unknown; path: Path; depth: number }> = [{ value: root, path: rootPath, depth: 1 }];
  for (let j = stack.pop(); j !== undefined; j = stack.pop()) {
    const { value, path, depth } = j;
    if (typeof value === 'number' && !Number.isFinite(value)) throw blueprintError(path, `${value} is not a JSON value: JSON numbers are finite`);
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_JSON_DEPTH) throw blueprintError(path, `JSON nested more than ${MAX_JSON_DEPTH} levels deep`);
    if (Array.isArray(value)) value.forEach((v, i) => stack.push({ value: v, path: [...path, i], depth: depth + 1 }));
    else {
      checkKeys(value as Record<string, unknown>, path);
      for (const [k, v] of Object.entries(value)) stack.push({ value: v, path: [...path, k], depth: depth + 1 });
    }
  }
}

/** Finds classes by registered name. */
export interface ClassResolver {
  /** @throws VastflowError E_UNKNOWN_CLASS listing the registered names. */
  river(name: string): new (config?: any) => River;
  fork(name: string): new (config?: any) => Fork;
  atlantic(name: string): new () => Atlantic;
}

/** What a drawn stream is, for messages: `river CreateVm`, `fork Size`, `a basin`, … */
export function describeStream(s: Stream): string {
  if (s instanceof River) return `river ${nameOf(s)}`;
  if (s instanceof Fork) return `fork ${nameOf(s)}`;
  if (s instanceof Dam) return `dam ${s.message ?? '(sleep)'}`;
  return s.kind === 'basin' ? 'a basin' : 'a parallel river';
}

/**
 * The blueprint streams of drawn stream instances.
 * @throws VastflowError E_DUPLICATE_STREAM for an instance drawn twice (a basin drawn into itself
 * too), E_BLUEPRINT for streams nested more than {@link MAX_STREAM_DEPTH} deep: as `start()` does
 */
export function streamsToBlueprint(streams: readonly Stream[], prefix = '', seen = new Set<Stream>(), depth = 1): BlueprintStream[] {
  if (depth > MAX_STREAM_DEPTH) {
    throw new VastflowError('E_BLUEPRINT', `the drawing nests streams more than ${MAX_STREAM_DEPTH} deep (at ${prefix}0); flatten it`);
  }
  const inner = (streams: readonly Stream[], prefix: string): BlueprintStream[] => streamsToBlueprint(streams, prefix, seen, depth + 1);
  return streams.map((s, i): BlueprintStream => {
    const id = StreamAddress.at(prefix, i);
    if (seen.has(s)) throw new VastflowError('E_DUPLICATE_STREAM', `${describeStream(s)} is drawn more than once (again at ${id}); draw a new instance`);
    seen.add(s);
    if (s instanceof River) {
      const out: BlueprintStream = { river: nameOf(s) };
      if (s.config !== undefined) out.config = s.config as Json;
      if (s.color !== undefined) out.color = s.color;
      return out;
    }
    if (s instanceof ParallelRiver) {
      const out: BlueprintStream = { parallel: s.branches.map((b, bi) => inner(b, StreamAddress.branch(id, bi))) };
      if (s.color !== undefined) out.color = s.color;
      return out;
    }
    if (s instanceof Basin) {
      const basin: { color?: string; streams: BlueprintStream[] } = { streams: inner(s.streams, StreamAddress.basin(id)) };
      if (s.color !== undefined) basin.color = s.color;
      return { basin };
    }
    if (s instanceof Dam) {
      const out: BlueprintDam = { dam: s.message };
      if (s.timeout !== undefined) out.timeout = s.timeout;
      if (s.key !== undefined) out.key = s.key;
      // A timed Dam always says what its timeout does, the default too; an untimed one only when told.
      if (s.message !== null && (s.timeout !== undefined || s.onTimeout !== 'fail')) out.onTimeout = s.onTimeout;
      if (s.delay !== undefined) out.delay = s.delay;
      if (s.color !== undefined) out.color = s.color;
      return out;
    }
    if (s instanceof Fork) {
      const branches: Record<string, BlueprintStream[]> = Object.fromEntries(
        [...s.branches].map(([b, streams], bi) => [b, inner(streams, StreamAddress.branch(id, bi))]),
      );
      const out: BlueprintStream = { fork: nameOf(s), branches };
      if (s.config !== undefined) out.config = s.config as Json;
      if (s.color !== undefined) out.color = s.color;
      return out;
    }
    throw new TypeError(`not a stream: ${String(s)}`);
  });
}

/** Stream instances drawn from blueprint streams, classes found through `classes`. */
export function streamsFromBlueprint(streams: readonly BlueprintStream[], classes: ClassResolver, at: Path = ['streams']): Stream[] {
  return streams.map((s, i): Stream => {
    if ('river' in s) {
      const Cls = classes.river(s.river);
      const r = new Cls(s.config);
      return s.color === undefined ? r : r.withColor(s.color);
    }
    if ('parallel' in s) {
      const p = new ParallelRiver();
      s.parallel.forEach((b, j) => appendBranch(p, streamsFromBlueprint(b, classes, [...at, i, 'parallel', j])));
      return s.color === undefined ? p : p.withColor(s.color);
    }
    if ('basin' in s) {
      const basin = new Basin(s.basin.color);
      for (const inner of streamsFromBlueprint(s.basin.streams, classes, [...at, i, 'basin', 'streams'])) basin.drawStream(inner);
      return basin;
    }
    if ('dam' in s) {
      const d = damOf(s, [...at, i]);
      return s.color === undefined ? d : d.withColor(s.color);
    }
    const Cls = classes.fork(s.fork);
    const f = new Cls(s.config);
    for (const [b, branch] of Object.entries(s.branches)) addForkBranch(f, b, streamsFromBlueprint(branch, classes, [...at, i, 'branches', b]));
    return s.color === undefined ? f : f.withColor(s.color);
  });
}

/** The Dam a blueprint describes. @throws VastflowError E_BLUEPRINT for options a Dam refuses. */
function damOf(s: BlueprintDam, path: Path): Dam {
  const options: Record<string, unknown> = {};
  for (const k of ['timeout', 'key', 'onTimeout', 'delay'] as const) if (s[k] !== undefined) options[k] = s[k];
  try {
    return s.dam === null ? new Dam(options as { delay: string }) : new Dam(s.dam, options);
  } catch (err) {
    throw new VastflowError('E_BLUEPRINT', `blueprint: at ${path.join('.')}: ${(err as Error).message}`, { cause: err });
  }
}
