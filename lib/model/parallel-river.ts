import { checkStreams, StreamBase, type Stream } from './stream.js';

let addBranch: (p: ParallelRiver, streams: Stream[]) => void;

/** `p.append(...streams)` for a branch given as an array, which a spread of a wide one would overflow. */
export function appendBranch(p: ParallelRiver, streams: Stream[]): void {
  addBranch(p, streams);
}

/**
 * Runs branches at the same time on the flow's headwaters and ends when every branch has settled.
 * @example
 * new ParallelRiver().append(new CreateVmRiver()).append(new CreateVolumeRiver(), new FormatVolume());
 */
export class ParallelRiver extends StreamBase {
  readonly kind = 'parallel' as const;
  readonly #branches: Stream[][] = [];

  static {
    addBranch = (p, streams) => {
      checkStreams('ParallelRiver.append', streams);
      p.#branches.push(streams);
    };
  }

  /**
   * Adds one branch: the given streams, run in sequence. Chainable.
   * @throws VastflowError E_INVALID_ARGUMENT when an argument is not a stream.
   */
  append(...streams: Stream[]): this {
    addBranch(this, streams);
    return this;
  }

  /** The branches drawn so far. */
  get branches(): ReadonlyArray<readonly Stream[]> {
    return this.#branches;
  }
}
