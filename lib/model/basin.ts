import { checkColor, checkStreams, StreamBase, type Stream } from './stream.js';

/**
 * Runs its streams in sequence on an isolated copy of the headwaters. On success the keys it set
 * or deleted are applied to the flow's headwaters; on failure nothing is merged back.
 * @example
 * new Basin('blue').drawStream(new A()).drawStream(new B());
 */
export class Basin extends StreamBase {
  readonly kind = 'basin' as const;
  readonly #streams: Stream[] = [];

  /**
   * @param color the basin's color, also the default color of the rivers inside it.
   * @throws VastflowError E_INVALID_ARGUMENT when the color is given but not a non-empty string.
   */
  constructor(color?: string) {
    super();
    if (color !== undefined) {
      checkColor('Basin', color);
      this.withColor(color);
    }
  }

  /**
   * Adds streams to the basin's sequence. Chainable.
   * @throws VastflowError E_INVALID_ARGUMENT when an argument is not a stream.
   */
  drawStream(...streams: Stream[]): this {
    checkStreams('Basin.drawStream', streams);
    for (const s of streams) this.#streams.push(s); // no push(...): a wide drawing would overflow the stack
    return this;
  }

  /** The streams drawn so far. */
  get streams(): readonly Stream[] {
    return this.#streams;
  }
}
