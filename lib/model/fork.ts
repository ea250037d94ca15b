import { VastflowError, misuse } from '../errors/vastflow-error.js';
import { describeValue } from './describe-value.js';
import type { Headwaters } from './headwaters.js';
import { frozenJsonCopy } from './json.js';
import { checkStreams, nameOf, StreamBase, type Stream } from './stream.js';

let addBranch: (fork: Fork, name: string, streams: Stream[]) => void;

/** `fork.branch(name, ...streams)` for a branch given as an array, which a spread of a wide one would overflow. */
export function addForkBranch(fork: Fork, name: string, streams: Stream[]): void {
  addBranch(fork, name, streams);
}

/**
 * Chooses one of several named branches at run time. Subclass it and implement `choose()`.
 * The choice is recorded, so recovery never chooses again.
 * @example
 * class SizeFork extends Fork { choose(hw: Headwaters) { return hw.getNumber('size')! > 100 ? 'big' : 'small'; } }
 * new SizeFork().branch('big', new BigDisk()).branch('small', new SmallDisk());
 */
export abstract class Fork<C = unknown> extends StreamBase {
  /** A stable name for the registry and blueprints; default: the class name. */
  static riverName?: string;
  readonly kind = 'fork' as const;
  /** The config given to the constructor: JSON, kept in the blueprint. */
  readonly config: C | undefined;
  /**
   * By name, in a plain object so that they keep the order of the blueprint's JSON object
   * (integer-like names first, ascending): a drawing and the flow rebuilt from its record number
   * their branches alike.
   */
  readonly #branches: Record<string, Stream[]> = Object.create(null);

  /** @param config JSON config, kept in the blueprint. */
  constructor(config?: C) {
    super();
    this.config = config === undefined ? undefined : (frozenJsonCopy(config, `config of fork ${nameOf(this)}`) as C);
  }

  /** The name of the branch to run. An unknown name fails the flow with E_NO_BRANCH. */
  abstract choose(hw: Headwaters<any>): string | Promise<string>;

  /**
   * Adds a branch: the given streams, run in sequence when `choose()` returns `name`. Chainable.
   * @throws VastflowError E_INVALID_ARGUMENT when the name is not a non-empty string (or is `__proto__`) or a stream is
   *   not one; E_DUPLICATE_NAME when the fork has a branch of that name.
   */
  branch(name: string, ...streams: Stream[]): this {
    addBranch(this, name, streams);
    return this;
  }

  static {
    addBranch = (fork, name, streams) => fork.#add(name, streams);
  }

  #add(name: string, streams: Stream[]): void {
    if (typeof name !== 'string' || name === '') {
      throw misuse(`Fork.branch: the branch name must be a non-empty string, got ${describeValue(name)}`);
    }
    // a blueprint's branches are a JSON object, where this key would set the prototype
    if (name === '__proto__') throw misuse('Fork.branch: the branch name "__proto__" is not allowed');
    if (Object.hasOwn(this.#branches, name)) {
      throw new VastflowError('E_DUPLICATE_NAME', `Fork.branch: fork ${nameOf(this)} already has a branch "${name}"; give each branch its own name`);
    }
    checkStreams('Fork.branch', streams);
    this.#branches[name] = streams;
  }

  /** The branches drawn so far, by name, in the order a blueprint lists them (integer-like names first, ascending). */
  get branches(): ReadonlyMap<string, readonly Stream[]> {
    return new Map(Object.entries(this.#branches));
  }
}
