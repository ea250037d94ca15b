import type { Atlantic } from './atlantic.js';
import type { ClassResolver } from './blueprint.js';
import type { Headwaters } from './headwaters.js';
import type { FlowRun } from './flow-run.js';
import type { Stream } from './stream.js';

/** A drawn flow, as Andes hands it to an engine. */
export interface Drawing {
  hw: Headwaters<any>;
  streams: Stream[];
  atlantic: Atlantic | undefined;
}

/** What Andes needs of an engine: every Engine has one, kept out of its public members. */
export interface EnginePort {
  /** Records the drawn flow and runs it. */
  startFlow(drawing: Drawing): Promise<FlowRun>;
  /** Finds classes by registered name, for blueprints. */
  readonly classes: ClassResolver;
  /** Registers the River, Fork and Atlantic classes of a drawing, as starting it would. */
  learn(classes: Iterable<Function>): void;
}

const ports = new WeakMap<object, EnginePort>();
let openDefault: (() => Promise<EnginePort>) | undefined;

/** Gives an engine its port (the engine's constructor calls it). */
export function attachPort(engine: object, port: EnginePort): void {
  ports.set(engine, port);
}

/** True for an Engine (one that has a port). */
export function isEngine(value: unknown): boolean {
  return typeof value === 'object' && value !== null && ports.has(value);
}

/** The port of an engine. @throws TypeError when `engine` is not an Engine (callers check with {@link isEngine} first). */
export function portOf(engine: object): EnginePort {
  const port = ports.get(engine);
  if (port === undefined) throw new TypeError('expected an Engine (from Engine.open)');
  return port;
}

/** How a bare `new Andes()` finds the default engine: the engine module provides it when it loads. */
export function provideDefaultEngine(open: () => Promise<EnginePort>): void {
  openDefault = open;
}

/** The port of the default engine, opened on first use. */
export function defaultEnginePort(): Promise<EnginePort> {
  if (openDefault === undefined) return Promise.reject(new TypeError('no default engine: import Engine from vastflow'));
  return openDefault();
}
