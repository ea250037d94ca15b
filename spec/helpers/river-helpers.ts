// Shared by the specs of one river's semantics (spec/engine/river-*.spec.ts, events.spec.ts).
// Everything here goes through the public API only.
import {
  Engine,
  Headwaters,
  River,
  type EngineEventName,
  type EngineEvents,
  type EngineOptions,
  type RiverAttr,
  type RiverContext,
  type Stream,
} from '../../lib/index.js';
import { runToEnd, silent } from './stores.js';

export { rejects, silent, startFlow, until } from './stores.js';

/** Opens an in-memory engine with a silent logger; `options` add to or override that. */
export function openEngine(options: EngineOptions = {}): Promise<Engine> {
  // a short close grace: a test that fails with an attempt still hanging must not stall the suite
  return Engine.open({ store: 'memory', logger: silent, closeTimeout: 200, ...options });
}

/** Runs a flow of `streams` to its end and returns its outcome. */
export async function runFlow(engine: Engine, streams: Stream[], hw?: Headwaters<any>) {
  return (await runToEnd(engine, streams, hw)).outcome;
}

/** What the scripted river does: its attrs, and the bodies of flow() and cycle(). */
export interface Script {
  attr?: RiverAttr;
  /** The body of flow(); `call` counts the calls of flow() from 1. */
  flow?: (hw: Headwaters, ctx: RiverContext, call: number) => unknown;
  /** The body of cycle(); `call` counts the calls of cycle() from 1. */
  cycle?: (hw: Headwaters, ctx: RiverContext, call: number) => boolean | Promise<boolean>;
}

/**
 * A river whose attrs and behaviour are given per instance, recording the context of every call.
 * Registered as `ScriptedRiver`: draw several instances in one flow, or subclass it with a
 * `static riverName` to tell rivers apart.
 */
export class ScriptedRiver extends River {
  readonly script: Script;
  /** The context of each call of flow(), in order. */
  readonly flowCalls: RiverContext[] = [];
  /** The context of each call of cycle(), in order. */
  readonly cycleCalls: RiverContext[] = [];

  constructor(script: Script = {}) {
    super();
    this.script = script;
  }

  update(attr: RiverAttr): void {
    // the class defines cycle(), so it must say how often to call it: a script without a cycle body has none
    if (this.script.cycle === undefined) attr.cycleTimes = 0;
    Object.assign(attr, this.script.attr ?? {});
  }

  async flow(hw: Headwaters, ctx: RiverContext): Promise<void> {
    this.flowCalls.push(ctx);
    await this.script.flow?.(hw, ctx, this.flowCalls.length);
  }

  async cycle(hw: Headwaters, ctx: RiverContext): Promise<boolean> {
    this.cycleCalls.push(ctx);
    return this.script.cycle === undefined ? true : this.script.cycle(hw, ctx, this.cycleCalls.length);
  }
}

/** A promise that never settles: an attempt that hangs. */
export const never = (): Promise<never> => new Promise<never>(() => {});

/** One event as the engine emitted it. */
export type Recorded = { [E in EngineEventName]: { event: E; payload: EngineEvents[E] } }[EngineEventName];

/** Every event `engine` emits from now on, in order. */
export function recordEvents(engine: Engine): Recorded[] {
  const seen: Recorded[] = [];
  const names: EngineEventName[] = ['flow:start', 'flow:end', 'river:start', 'river:retry', 'river:cycle', 'river:end', 'river:compensate'];
  for (const event of names) {
    engine.on(event, (payload: EngineEvents[typeof event]) => {
      seen.push({ event, payload } as Recorded);
    });
  }
  return seen;
}

/** The payloads of one event, in order. */
export function payloads<E extends EngineEventName>(seen: Recorded[], event: E): Array<EngineEvents[E]> {
  return seen.filter((r) => r.event === event).map((r) => r.payload as EngineEvents[E]);
}
