import type { ResolvedRiverAttr } from '../model/river-attr.js';
import type { Stream } from '../model/stream.js';
import { compile, type Compiled, type Plan, type PlanNode } from './plan.js';

/** How many distinct hashes of drawings an engine remembers plans for; past them, the oldest is forgotten. */
const MAX_HASHES = 1000;
/** Plans kept per hash: drawings that collide past them compile plans of their own. */
const PER_HASH = 4;

const KIND_CODE = { river: 1, parallel: 2, basin: 3, fork: 4, dam: 5 } as const;

/**
 * The plans an engine compiled, by the shape of their drawing: flows drawn alike (same ids, kinds,
 * classes, names, colors, resolved attributes, input schemas, Dam settings, fork branch names)
 * share one plan, and each keeps only its own River and Fork objects. A plan is never changed once
 * compiled, so sharing it changes nothing a flow does; 100,000 parked flows of one drawing keep one
 * plan instead of 100,000 copies. A drawing the cache has no room for compiles a plan of its own,
 * as correct as a shared one.
 */
export class PlanCache {
  readonly #plans = new Map<number, Plan[]>();
  /** Small numbers for the classes and attrs in the hashes. */
  readonly #ids = new WeakMap<object, number>();
  #nextId = 1;

  /**
   * Compiles drawn streams (each river's update() runs, as compile() does) and gives back the plan
   * of an earlier flow drawn alike when there is one.
   * @throws VastflowError as compile() does
   */
  compile(streams: readonly Stream[]): Compiled {
    const compiled = compile(streams);
    const hash = this.#hash(compiled.plan);
    const held = this.#plans.get(hash);
    if (held === undefined) {
      if (this.#plans.size >= MAX_HASHES) this.#plans.delete(this.#plans.keys().next().value!);
      this.#plans.set(hash, [compiled.plan]);
      return compiled;
    }
    for (const p of held) if (samePlan(p, compiled.plan)) return { plan: p, instances: compiled.instances };
    if (held.length < PER_HASH) held.push(compiled.plan);
    return compiled;
  }

  #id(o: object): number {
    let id = this.#ids.get(o);
    if (id === undefined) this.#ids.set(o, (id = this.#nextId++));
    return id;
  }

  // cheap, with no string built: the kinds, classes and attr objects in drawing order (equal attrs
  // of other objects hash apart and are not shared, which is correct, only less thrifty)
  #hash(plan: Plan): number {
    let h = plan.nodes.length;
    for (const n of plan.nodes) {
      h = Math.imul(h ^ KIND_CODE[n.kind], 0x9e3779b1);
      if (n.kind === 'river') h = Math.imul(h ^ this.#id(n.cls), 0x85ebca6b) ^ this.#id(n.attr);
      else if (n.kind === 'fork') h = Math.imul(h ^ this.#id(n.cls), 0x85ebca6b);
    }
    return h | 0;
  }
}

/** True when two plans are alike in everything compile() derives from a drawing. */
function samePlan(a: Plan, b: Plan): boolean {
  if (a.nodes.length !== b.nodes.length) return false;
  for (let i = 0; i < a.nodes.length; i++) if (!sameNode(a.nodes[i]!, b.nodes[i]!)) return false;
  return true;
}

// a node's id places it in its plan and its kind says what its insides are: nodes alike in drawing
// order make plans alike
function sameNode(x: PlanNode, y: PlanNode): boolean {
  if (x.id !== y.id || x.kind !== y.kind || x.name !== y.name || x.color !== y.color) return false;
  switch (x.kind) {
    case 'river': {
      const o = y as typeof x;
      return x.cls === o.cls && x.input === o.input && sameAttr(x.attr, o.attr);
    }
    case 'fork': {
      const o = y as typeof x;
      if (x.cls !== o.cls || x.branches.size !== o.branches.size) return false;
      const names = [...o.branches.keys()];
      let i = 0;
      for (const name of x.branches.keys()) if (name !== names[i++]) return false;
      return true;
    }
    case 'dam': {
      const o = y as typeof x;
      return x.message === o.message && x.key === o.key && Object.is(x.waitMs, o.waitMs) && x.onTimeout === o.onTimeout;
    }
    case 'parallel':
      return x.branches.length === (y as typeof x).branches.length;
    case 'basin':
      return true;
  }
}

function sameAttr(a: ResolvedRiverAttr, b: ResolvedRiverAttr): boolean {
  if (a === b) return true;
  for (const k of Object.keys(a) as Array<keyof ResolvedRiverAttr>) if (!Object.is(a[k], b[k])) return false;
  return Object.keys(a).length === Object.keys(b).length;
}
