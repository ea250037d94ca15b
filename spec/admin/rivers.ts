// Rivers the admin and CLI specs draw: one that succeeds, one that fails until told not to, and
// one that holds its flow until the flow is cancelled.
import { Headwaters, River, type RiverContext } from '../../lib/index.js';

export class Ok extends River {
  async flow(hw: Headwaters): Promise<void> {
    hw.put('ok', true);
  }
}

/** Fails while `Flaky.failing` is true (a redrive after it is set to false succeeds). */
export class Flaky extends River {
  static failing = true;
  async flow(): Promise<void> {
    if (Flaky.failing) throw new Error('flaky says no');
  }
}

/** Holds its flow until the flow's signal aborts (a cancel). */
export class Hold extends River {
  async flow(_hw: Headwaters, ctx: RiverContext): Promise<void> {
    await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    throw new Error('stopped');
  }
}

/** Ignores its flow's signal: it ends 600 ms after it starts, whatever happens meanwhile. */
export class Stubborn extends River {
  async flow(): Promise<void> {
    await new Promise((r) => setTimeout(r, 600));
  }
}
