import type { Json } from './json.js';

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

  /** Sets the stream's color. Chainable. */
  withColor(color: string): this {
    if (typeof color !== 'string' || color === '') throw new TypeError('withColor: color must be a non-empty string');
    this.#color = color;
    return this;
  }
}

/** A class whose instances can be drawn in a flow and found again by name (River, Fork, Atlantic). */
export interface NamedClass {
  readonly name: string;
  /** A stable name for the registry and blueprints; default: the class name. */
  riverName?: string;
}

/** The name a class is registered under: `static riverName`, else the class name. */
export function registeredName(cls: NamedClass): string {
  const own = cls.riverName;
  return typeof own === 'string' && own !== '' ? own : cls.name;
}

/** The registered name of an instance's class. */
export function nameOf(instance: object): string {
  return registeredName(instance.constructor as unknown as NamedClass);
}

/** A config value kept in the blueprint. */
export type StreamConfig = Json | undefined;
