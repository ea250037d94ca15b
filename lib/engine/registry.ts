import { VastflowError, misuse } from '../errors/vastflow-error.js';
import { Atlantic } from '../model/atlantic.js';
import type { ClassResolver } from '../model/blueprint.js';
import { Fork } from '../model/fork.js';
import { River } from '../model/river.js';
import { describeValue, quoted } from '../model/describe-value.js';
import { anonymousClassMessage, registeredName, type NamedClass } from '../model/stream.js';

/** A class the registry takes: a River, Fork or Atlantic subclass. */
export type RegistrableClass = (abstract new (...args: any[]) => River | Fork | Atlantic) & NamedClass;

type Kind = 'river' | 'fork' | 'atlantic';

function kindOf(cls: Function): Kind | undefined {
  if (cls.prototype instanceof River) return 'river';
  if (cls.prototype instanceof Fork) return 'fork';
  if (cls === Atlantic || cls.prototype instanceof Atlantic) return 'atlantic';
  return undefined;
}

/** True for a class the registry takes. */
export function isRegistrable(value: unknown): value is RegistrableClass {
  return typeof value === 'function' && kindOf(value) !== undefined;
}

/** Classes by registered name: how recovery and blueprints find the code of a drawn stream. */
export class Registry implements ClassResolver {
  readonly #classes = new Map<string, { cls: RegistrableClass; kind: Kind }>();
  #nameSet: Set<string> | undefined;

  /**
   * Registers a class under `static riverName`, else its class name; true when it was not yet
   * registered. Registering it again is a no-op.
   * @throws VastflowError E_DUPLICATE_NAME when another class holds the name; E_INVALID_ARGUMENT when
   *   `cls` is not a River, Fork or Atlantic subclass, or is an anonymous class with no `static riverName`.
   */
  add(cls: RegistrableClass): boolean {
    const kind = typeof cls === 'function' ? kindOf(cls) : undefined;
    if (kind === undefined) {
      const instance = isRegistrable((cls as unknown as object | null)?.constructor) ? '; register the class, not an instance' : '';
      throw misuse(`register: expected a River, Fork or Atlantic subclass, got ${describeValue(cls)}${instance}`);
    }
    const name = registeredName(cls);
    if (name === '')
      throw new VastflowError('E_INVALID_ARGUMENT', anonymousClassMessage('register', kind === 'river' ? 'River' : kind === 'fork' ? 'Fork' : 'Atlantic'));
    const held = this.#classes.get(name);
    if (held === undefined) {
      this.#classes.set(name, { cls, kind });
      this.#nameSet = undefined;
      return true;
    }
    if (held.cls !== cls) {
      throw new VastflowError('E_DUPLICATE_NAME', `register: the name "${name}" is held by another class; give one of them a distinct static riverName`);
    }
    return false;
  }

  /** True when `name` is registered. */
  has(name: string): boolean {
    return this.#classes.has(name);
  }

  /** The registered names, as a set (kept until the next add). */
  nameSet(): ReadonlySet<string> {
    return (this.#nameSet ??= new Set(this.#classes.keys()));
  }

  /** The registered names, sorted. */
  names(): string[] {
    return [...this.#classes.keys()].sort();
  }

  river(name: string): new (config?: any) => River {
    return this.#get(name, 'river') as unknown as new (config?: any) => River;
  }

  fork(name: string): new (config?: any) => Fork {
    return this.#get(name, 'fork') as unknown as new (config?: any) => Fork;
  }

  atlantic(name: string): new () => Atlantic {
    return this.#get(name, 'atlantic') as unknown as new () => Atlantic;
  }

  #get(name: string, kind: Kind): RegistrableClass {
    const held = this.#classes.get(name);
    if (held === undefined && kind === 'atlantic' && name === 'Atlantic') return Atlantic as RegistrableClass;
    if (held === undefined || held.kind !== kind) {
      // the names that would have worked: those of the kind asked for
      const known = [...this.#classes]
        .filter(([, c]) => c.kind === kind)
        .map(([n]) => n)
        .sort();
      const other = held === undefined ? '' : ` (${quoted(name)} is a registered ${held.kind})`;
      throw new VastflowError(
        'E_UNKNOWN_CLASS',
        `unknown ${kind} class ${quoted(name)}${other}; registered ${kind} classes: ${known.length > 0 ? known.join(', ') : '(none)'}`,
      );
    }
    return held.cls;
  }
}
