import { VastflowError, misuse } from '../errors/vastflow-error.js';
import { describeValue } from './describe-value.js';
import { illFormed, type Json } from './json.js';

/** Any stream: what `drawStream`, `append` and `branch` accept. */
export type Stream = StreamBase;

/** The base of every stream kind. Not subclassed directly: extend River or Fork. */
export abstract class StreamBase {
  /** Which kind of stream this is. */
  abstract readonly kind: 'river' | 'parallel' | 'basin' | 'fork' | 'dam';
  #color: string | undefined;

  /** The stream's color: a label shown in logs, contexts and diagrams. Rivers in a basin default to its color. */
  get color(): string | undefined {
    return this.#color;
  }

  /**
   * Sets the stream's color. Chainable.
   * @throws VastflowError E_INVALID_ARGUMENT when the color is not a non-empty string.
   */
  withColor(color: string): this {
    checkColor('withColor', color);
    this.#color = color;
    return this;
  }
}

/** @throws VastflowError E_INVALID_ARGUMENT naming `method` when `color` is not a non-empty string. */
export function checkColor(method: string, color: unknown): asserts color is string {
  if (typeof color !== 'string' || color === '') {
    throw misuse(`${method}: color must be a non-empty string, got ${describeValue(color)}`);
  }
}

/**
 * Checks the arguments of a drawing call (`drawStream`, `append`, `branch`) before it draws any.
 * @throws VastflowError E_INVALID_ARGUMENT naming `method` and what the first bad argument is.
 */
export function checkStreams(method: string, streams: readonly unknown[]): asserts streams is Stream[] {
  for (const s of streams) {
    if (s instanceof StreamBase) {
      if (s.kind === 'river' || s.kind === 'fork') checkNamed(method, s, s.kind === 'river' ? 'River' : 'Fork');
      continue;
    }
    const cls = typeof s === 'function' && s.prototype instanceof StreamBase ? s.name : undefined;
    const hint = cls === undefined || cls === '' ? '' : `; draw an instance: new ${cls}()`;
    throw misuse(`${method}: expected a River, ParallelRiver, Basin, Fork or Dam, got ${describeValue(s)}${hint}`);
  }
}

/** A class whose instances can be drawn in a flow and found again by name (River, Fork, Atlantic). */
export interface NamedClass {
  readonly name: string;
  /** A stable name for the registry and blueprints; default: the class name. */
  riverName?: string;
}

/**
 * The name a class is registered under: `static riverName`, else the class name.
 * @throws VastflowError E_INVALID_ARGUMENT for a `static riverName` that is set but is no name (not
 *   a string, empty or blank, or not well-formed text): the name meant would silently be another.
 */
export function registeredName(cls: NamedClass): string {
  const own = cls.riverName;
  if (own === undefined) return cls.name;
  const why = typeof own !== 'string' ? 'it is not a string' : own.trim() === '' ? 'it is empty or blank' : illFormed(own);
  if (why !== undefined) {
    throw new VastflowError('E_INVALID_ARGUMENT', `class ${cls.name || '(anonymous)'}: static riverName must be a name, got ${describeValue(own)}: ${why}`);
  }
  return own;
}

/** The message for a class with no name to register it under: an anonymous class with no `static riverName`. */
export function anonymousClassMessage(method: string, kind: string): string {
  return `${method}: this ${kind}'s class is anonymous, so it has no name for the registry and blueprints; give the class a static riverName`;
}

/**
 * Checks that an instance's class has a name to register it under (River, Fork, Atlantic).
 * @throws VastflowError E_INVALID_ARGUMENT naming `method` for an anonymous class with no `static riverName`.
 */
export function checkNamed(method: string, instance: object, kind: string): void {
  if (nameOf(instance) === '') throw new VastflowError('E_INVALID_ARGUMENT', anonymousClassMessage(method, kind));
}

/** The registered name of an instance's class. */
export function nameOf(instance: object): string {
  return registeredName(instance.constructor as unknown as NamedClass);
}

/** A config value kept in the blueprint. */
export type StreamConfig = Json | undefined;
