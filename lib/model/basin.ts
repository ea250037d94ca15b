import { StreamBase, type Stream } from './stream.js';

/**
 * Runs its streams in sequence on an isolated copy of the headwaters. On success the keys it set
 * or deleted are applied to the flow's headwaters; on failure nothing is merged back.
 * @example
 * new Basin('blue').drawStream(new A()).drawStream(new B());
 */
export class Basin extends StreamBase {
  readonly kind = 'basin' as const;
  readonly #streams: Stream[] = [];

  /** @param color the basin's color, also the default color of the rivers inside it. */
  constructor(color?: string) {
    super();
    if (color !== undefined) this.withColor(color);
  }

  /** Adds streams to the basin's sequence. Chainable. */
  drawStream(...streams: Stream[]): this {
    for (const s of streams) {
      if (!(s instanceof StreamBase)) throw new TypeError('Basin.drawStream: every argument must be a stream (River, ParallelRiver, Basin or Fork)');
    }
    this.#streams.push(...streams);
    return this;
  }

  /** The streams drawn so far. */
  get streams(): readonly Stream[] {
    return this.#streams;
  }
}
