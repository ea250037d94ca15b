// The rivers the UI specs run. Their behaviour is set per label in module state, so a redriven
// flow (rebuilt from the registry) sees it too.
import { Fork, River, type Headwaters, type RiverAttr } from '../../lib/index.js';
import { latch, type Latch } from '../helpers/stores.js';

const gates = new Map<string, Latch>();
const calls = new Map<string, number>();
const count = (label: string): number => {
  const n = (calls.get(label) ?? 0) + 1;
  calls.set(label, n);
  return n;
};
/** Labels whose river throws while they are in the set. */
export const failing = new Set<string>();

/** The gate a Gated river of `label` waits at. */
export function gate(label: string): Latch {
  let l = gates.get(label);
  if (l === undefined) gates.set(label, (l = latch()));
  return l;
}

/** Forgets every gate and failure. */
export function resetRivers(): void {
  for (const g of gates.values()) g.release();
  gates.clear();
  failing.clear();
  calls.clear();
}

/** Puts `<label>: true`, or throws while its label is failing. */
export class Step extends River<{ label: string }> {
  async flow(hw: Headwaters) {
    if (failing.has(this.config!.label)) throw new Error(`${this.config!.label} failed`);
    hw.put(this.config!.label, true);
  }
}

/** Waits at its gate, then succeeds; fails when the flow stops first. */
export class Gated extends River<{ label: string }> {
  async flow(hw: Headwaters) {
    const stopped = new Promise<void>((r) => hw.signal.addEventListener('abort', () => r(), { once: true }));
    await Promise.race([gate(this.config!.label).promise, stopped]);
    if (hw.signal.aborted) throw new Error(`${this.config!.label} stopped`);
    hw.put(this.config!.label, true);
  }
}

/** Chooses the branch its config names. */
export class Choose extends Fork<{ branch: string }> {
  choose() {
    return this.config!.branch;
  }
}

/** Fails its first `fails` attempts, retried every 20 ms. */
export class Retried extends River<{ label: string; fails: number }> {
  update(attr: RiverAttr) {
    attr.retryTimes = 3;
    attr.retryInterval = 20;
  }
  async flow(hw: Headwaters) {
    const n = count(this.config!.label);
    if (n <= this.config!.fails) throw new Error(`${this.config!.label}: attempt ${n} timed out`);
    hw.put(this.config!.label, true);
  }
}

/** Done at its `polls`-th poll, polled every 20 ms. */
export class Polled extends River<{ label: string; polls: number }> {
  update(attr: RiverAttr) {
    attr.cycleTimes = 10;
    attr.cycleInterval = 20;
  }
  async cycle(hw: Headwaters) {
    const done = count(this.config!.label) >= this.config!.polls;
    if (done) hw.put(this.config!.label, true);
    return done;
  }
}

/** A Step whose compensate() undoes it (it puts `<label>Undone: true`). */
export class Undone extends Step {
  async compensate(hw: Headwaters) {
    hw.put(`${this.config!.label}Undone`, true);
  }
}

// the order flow of the screenshot: named rivers
export class Validate extends Step {}
export class Reserve extends Retried {}
export class Pack extends Polled {}
export class Quote extends Polled {}
export class Charge extends Step {}
export class Courier extends Step {}
export class Post extends Step {}
export class Shipping extends Choose {}

export const UI_CLASSES = [Step, Gated, Choose, Retried, Polled, Undone, Validate, Reserve, Pack, Quote, Charge, Courier, Post, Shipping];
