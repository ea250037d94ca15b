import { z } from 'zod';
import { VastflowError } from '../errors/vastflow-error.js';
import { Atlantic } from './atlantic.js';
import { Basin } from './basin.js';
import { Fork } from './fork.js';
import type { Json, JsonObject } from './json.js';
import { ParallelRiver } from './parallel-river.js';
import { River } from './river.js';
import { nameOf, type Stream } from './stream.js';

/** A stream in a blueprint. */
export type BlueprintStream =
  | { river: string; config?: Json; color?: string }
  | { parallel: BlueprintStream[][]; color?: string }
  | { basin: { color?: string; streams: BlueprintStream[] } }
  | { fork: string; config?: Json; color?: string; branches: Record<string, BlueprintStream[]> };

/** The JSON form of a flow (see docs/blueprint.md). */
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

const color = name.describe('a label shown in logs, contexts and diagrams');
const streamSchema: z.ZodType<BlueprintStream> = z.lazy(() =>
  z
    .union([
      z
        .strictObject({
          river: name.describe('the registered name of a River class'),
          config: json.optional().describe("the river's JSON config (its constructor argument)"),
          color: color.optional(),
        })
        .describe('one river'),
      z
        .strictObject({
          parallel: z.array(z.array(streamSchema)).describe('branches run at the same time; each branch is a sequence'),
          color: color.optional(),
        })
        .describe('a ParallelRiver'),
      z
        .strictObject({
          basin: z.strictObject({ color: color.optional(), streams: z.array(streamSchema).describe('run in sequence on an isolated copy of the headwaters') }),
        })
        .describe('a Basin'),
      z
        .strictObject({
          fork: name.describe('the registered name of a Fork class'),
          config: json.optional(),
          color: color.optional(),
          branches: z.record(name, z.array(streamSchema)).describe('the branches by name; choose() picks one'),
        })
        .describe('a Fork'),
    ])
    .meta({ id: 'Stream' }),
) as z.ZodType<BlueprintStream>;

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
 * Validates a blueprint.
 * @throws VastflowError E_BLUEPRINT with the path of the first problem.
 */
export function parseBlueprint(input: unknown): Blueprint {
  const parsed = blueprintSchema.safeParse(input);
  if (parsed.success) return parsed.data as Blueprint;
  const issue = deepestIssue(parsed.error.issues);
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
  throw new VastflowError('E_BLUEPRINT', `blueprint: at ${path}: ${issue.message}`);
}

type Issue = z.core.$ZodIssue;

// A union reports "invalid input" at the stream; the branch that got furthest says what is wrong,
// unless the stream has a key that no kind of stream knows (a misspelt `rivr`): that key is.
function deepestIssue(issues: readonly Issue[]): Issue {
  let best = issues[0]!;
  for (const issue of issues) {
    if (issue.code === 'invalid_union') {
      const unknown = unknownInEveryBranch(issue.errors);
      if (unknown.length > 0) {
        const keys = unknown.map((k) => JSON.stringify(k)).join(', ');
        const message = `unknown key${unknown.length === 1 ? '' : 's'} ${keys}: a stream has one of the keys "river", "parallel", "basin", "fork"`;
        const named: Issue = { code: 'unrecognized_keys', keys: unknown, path: issue.path, message };
        if (best === issue || named.path.length >= best.path.length) best = named;
        continue;
      }
      for (const branch of issue.errors) {
        if (branch.length === 0) continue;
        const inner = deepestIssue(branch.map((i) => ({ ...i, path: [...issue.path, ...i.path] })));
        if (inner.path.length > best.path.length || best === issue) best = inner;
      }
    } else if (issue.path.length > best.path.length) best = issue;
  }
  return best;
}

/** The keys that every branch of a union reports as unrecognized at the union's own path. */
function unknownInEveryBranch(branches: readonly (readonly Issue[])[]): string[] {
  let common: string[] | undefined;
  for (const branch of branches) {
    const keys = branch.flatMap((i) => (i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : []));
    common = common === undefined ? keys : common.filter((k) => keys.includes(k));
    if (common.length === 0) return [];
  }
  return common ?? [];
}

/** Finds classes by registered name. */
export interface ClassResolver {
  /** @throws VastflowError E_UNKNOWN_CLASS listing the registered names. */
  river(name: string): new (config?: any) => River;
  fork(name: string): new (config?: any) => Fork;
  atlantic(name: string): new () => Atlantic;
}

/** The blueprint streams of drawn stream instances. */
export function streamsToBlueprint(streams: readonly Stream[]): BlueprintStream[] {
  return streams.map((s): BlueprintStream => {
    if (s instanceof River) {
      const out: BlueprintStream = { river: nameOf(s) };
      if (s.config !== undefined) out.config = s.config as Json;
      if (s.color !== undefined) out.color = s.color;
      return out;
    }
    if (s instanceof ParallelRiver) {
      const out: BlueprintStream = { parallel: s.branches.map((b) => streamsToBlueprint(b)) };
      if (s.color !== undefined) out.color = s.color;
      return out;
    }
    if (s instanceof Basin) {
      const basin: { color?: string; streams: BlueprintStream[] } = { streams: streamsToBlueprint(s.streams) };
      if (s.color !== undefined) basin.color = s.color;
      return { basin };
    }
    if (s instanceof Fork) {
      const branches: Record<string, BlueprintStream[]> = Object.fromEntries(
        [...s.branches].map(([b, streams]) => [b, streamsToBlueprint(streams)]),
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
export function streamsFromBlueprint(streams: readonly BlueprintStream[], classes: ClassResolver): Stream[] {
  return streams.map((s): Stream => {
    if ('river' in s) {
      const Cls = classes.river(s.river);
      const r = new Cls(s.config);
      return s.color === undefined ? r : r.withColor(s.color);
    }
    if ('parallel' in s) {
      const p = new ParallelRiver();
      for (const b of s.parallel) p.append(...streamsFromBlueprint(b, classes));
      return s.color === undefined ? p : p.withColor(s.color);
    }
    if ('basin' in s) return new Basin(s.basin.color).drawStream(...streamsFromBlueprint(s.basin.streams, classes));
    const Cls = classes.fork(s.fork);
    const f = new Cls(s.config);
    for (const [b, branch] of Object.entries(s.branches)) f.branch(b, ...streamsFromBlueprint(branch, classes));
    return s.color === undefined ? f : f.withColor(s.color);
  });
}
