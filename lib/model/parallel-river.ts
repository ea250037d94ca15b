import { checkStreams, StreamBase, type Stream } from './stream.js';

/**
 * Runs branches at the same time on the flow's headwaters and ends when every branch has settled.
 * @example
 * new ParallelRiver().append(new CreateVmRiver()).append(new CreateVolumeRiver(), new FormatVolume());
 */
export class ParallelRiver extends StreamBase {
  readonly kind = 'parallel' as const;
  readonly #branches: Stream[][] = [];

  /**
   * Adds one branch: the given streams, run in sequence. Chainable.
   * @throws VastflowError E_INVALID_ARGUMENT when an argument is not a stream.
   */
  append(...streams: Stream[]): this {
    checkStreams('ParallelRiver.append', streams);
    this.#branches.push(streams);
    return this;
  }

  /** The branches drawn so far. */
  get branches(): ReadonlyArray<readonly Stream[]> {
    return this.#branches;
  }
}
