import type { z } from 'zod';

/**
 * The kinds of stream, each named by the key that only it has, in the order of the blueprint
 * schema's union of them: a stream's kind is the one of these keys it has.
 */
export const STREAM_KINDS = ['river', 'parallel', 'basin', 'fork', 'dam'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

type Issue = z.core.$ZodIssue;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The problem to report of a blueprint zod refused (`input`): the deepest issue, the first of
 * equally deep ones. zod checks a stream against every kind of stream and, when all fail, gives
 * each kind's issues in one `invalid_union`; the stream's own kind says which of them are its own.
 */
export function blueprintProblem(issues: readonly Issue[], input: unknown): Issue {
  let best: Issue | undefined;
  for (const raw of issues) {
    const issue = raw.code === 'invalid_union' ? unionProblem(raw, input) : raw;
    if (best === undefined || issue.path.length > best.path.length) best = issue;
  }
  return best!;
}

const KIND_KEYS = STREAM_KINDS.map((k) => JSON.stringify(k)).join(', ');

/** The problem behind a union's failure: at a stream, its own kind's; elsewhere, the deepest of every branch's. */
function unionProblem(issue: z.core.$ZodIssueInvalidUnion, input: unknown): Issue {
  const inBranch = (branch: readonly Issue[]): Issue =>
    branch.length === 0
      ? issue
      : blueprintProblem(
          branch.map((i) => ({ ...i, path: [...issue.path, ...i.path] })),
          input,
        );
  const stream = streamAt(input, issue.path);
  const problem = (message: string): Issue => ({ code: 'custom', path: issue.path, message });
  if (stream === undefined || !isRecord(stream.value)) {
    // Not a stream (a duration: a number or a string; a JSON value), or a stream that is not an
    // object, which every kind reports alike.
    let best: Issue | undefined;
    for (const branch of issue.errors) {
      if (branch.length === 0) continue;
      const inner = inBranch(branch);
      if (best === undefined || inner.path.length > best.path.length) best = inner;
    }
    return best ?? issue;
  }
  const kinds = STREAM_KINDS.filter((k) => Object.hasOwn(stream.value as object, k));
  // zod gives each member's issues in the order of the union's members, the order of STREAM_KINDS.
  if (kinds.length === 1) return inBranch(issue.errors[STREAM_KINDS.indexOf(kinds[0]!)] ?? []);
  if (kinds.length > 1) return problem(`a stream has one of the keys ${KIND_KEYS}; this one has ${kinds.map((k) => JSON.stringify(k)).join(' and ')}`);
  const unknown = unknownInEveryBranch(issue.errors);
  if (unknown.length === 0) return problem(`a stream has one of the keys ${KIND_KEYS}; this one has none`);
  const keys = unknown.map((k) => JSON.stringify(k)).join(', ');
  return {
    code: 'unrecognized_keys',
    keys: unknown,
    path: issue.path,
    message: `unknown key${unknown.length === 1 ? '' : 's'} ${keys}: a stream has one of the keys ${KIND_KEYS}`,
  };
}

/**
 * The value at `path` when `path` is where a stream goes: `streams.i`, and in a stream there
 * `parallel.i.j`, `basin.streams.i` or `branches.name.i`; undefined for any other path.
 */
function streamAt(input: unknown, path: readonly PropertyKey[]): { value: unknown } | undefined {
  const step = (v: unknown, k: PropertyKey): unknown => (typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined);
  if (path[0] !== 'streams' || typeof path[1] !== 'number') return undefined;
  let value = step(step(input, 'streams'), path[1]);
  let i = 2;
  while (i < path.length) {
    const [a, b, c] = [path[i], path[i + 1], path[i + 2]];
    const inside = (a === 'parallel' && typeof b === 'number') || (a === 'basin' && b === 'streams') || (a === 'branches' && typeof b === 'string');
    if (!inside || typeof c !== 'number') return undefined;
    value = step(step(step(value, a), b), c);
    i += 3;
  }
  return { value };
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
