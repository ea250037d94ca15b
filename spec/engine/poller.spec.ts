// The Poller: every parked wait in one heap, one timer armed for the earliest.
import { expect } from 'chai';
import type { Clock } from '../../lib/clock/clock.js';
import { Poller, type Wait } from '../../lib/engine/poller.js';

/**
 * A clock whose timers fire when the test says so, and whose reading the test sets: it can lag a
 * timer, as Date.now() can lag the event loop's clock by a fraction of a millisecond.
 */
class LaggingClock implements Clock {
  reading = 1_000;
  readonly timers: Array<{ ms: number; fire: () => void }> = [];
  now(): number {
    return this.reading;
  }
  sleep(ms: number): Promise<void> {
    return new Promise((fire) => this.timers.push({ ms, fire }));
  }
}

function wait(due: number, fired: number[]): Wait {
  return { due, seq: 0, done: false, onDue: () => fired.push(due) };
}

const turns = (n: number) => Array.from({ length: n }).reduce<Promise<void>>((p) => p.then(() => new Promise((r) => setImmediate(r))), Promise.resolve());

describe('Poller', () => {
  it('fires the waits its timer was armed for, even when the clock reads a little earlier', async () => {
    const clock = new LaggingClock();
    const poller = new Poller(clock);
    const fired: number[] = [];
    poller.park(wait(1_010, fired));
    poller.park(wait(1_010, fired));
    poller.park(wait(1_020, fired));
    clock.reading = 1_009;
    expect(clock.timers.map((t) => t.ms)).to.deep.equal([10]);
    clock.timers[0]!.fire(); // the timer for 1,010 fires while the clock still reads 1,009
    await turns(2);
    expect(fired).to.deep.equal([1_010, 1_010]);
    expect(
      clock.timers.map((t) => t.ms),
      'the next timer is armed for the next due time, not again for 1,010',
    ).to.deep.equal([10, 11]);
    poller.clear();
  });

  it('fires waits in due order, and a woken wait once only', async () => {
    const clock = new LaggingClock();
    const poller = new Poller(clock);
    const fired: number[] = [];
    const late = wait(1_030, fired);
    for (const w of [wait(1_020, fired), late, wait(1_005, fired)]) poller.park(w);
    poller.wake(late);
    clock.reading = 1_040;
    clock.timers[0]!.fire();
    await turns(2);
    expect(fired).to.deep.equal([1_030, 1_005, 1_020]);
    poller.clear();
  });

  it('clear() ends each wait once: a wait woken earlier is not woken again, and a later park ends at once', () => {
    const poller = new Poller(new LaggingClock());
    const fired: number[] = [];
    const woken = wait(1_100, fired);
    poller.park(woken);
    poller.park(wait(1_200, fired));
    poller.wake(woken);
    poller.clear();
    expect(fired).to.deep.equal([1_100, 1_200]);
    poller.park(wait(1_300, fired));
    expect(fired, 'nothing waits once the poller is cleared').to.deep.equal([1_100, 1_200, 1_300]);
  });
});
