// Rivers for the crash tests: they append what they do to a journal file with synchronous writes,
// so every line written before a SIGKILL survives it. The child program and the recovering test
// process both load this module; env VASTFLOW_CRASH_HANG makes the named step hang in the child.
import fs from 'node:fs';
import { Atlantic, Basin, Fork, Headwaters, ParallelRiver, River, type Andes, type RiverAttr, type RiverContext } from '../../lib/index.js';

export const settings = {
  journal: process.env['VASTFLOW_CRASH_JOURNAL'] ?? '',
  hang: process.env['VASTFLOW_CRASH_HANG'] ?? '',
};

export function journal(line: string): void {
  if (settings.journal !== '') fs.appendFileSync(settings.journal, `${line}\n`);
}

export function readJournal(file: string): string[] {
  return fs.existsSync(file)
    ? fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];
}

// keeps the event loop alive, as real pending I/O would, until the process is killed
const never = (): Promise<never> => new Promise(() => setInterval(() => {}, 1000));
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A durable step that puts its name into the headwaters. */
export class Step extends River<{ name: string; jitterMs?: number }> {
  update(attr: RiverAttr) {
    attr.durable = true;
    attr.retryTimes = 2;
    attr.retryInterval = 10;
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    const name = this.config!.name;
    journal(`start ${hw.requestId} ${name} ${ctx.attempt}`);
    if (settings.hang === name) {
      journal(`hanging ${hw.requestId} ${name}`);
      await never();
    }
    if (this.config!.jitterMs) await tick(Math.floor(Math.random() * this.config!.jitterMs));
    hw.put(name, `${name}-done`);
    journal(`done ${hw.requestId} ${name}`);
  }
}

/** flow() once, then polls: done on the 4th poll. */
export class Poll extends River {
  update(attr: RiverAttr) {
    attr.durable = true;
    attr.cycleTimes = 6;
    attr.cycleInterval = 60;
  }
  async flow(hw: Headwaters) {
    journal(`start ${hw.requestId} poll`);
    hw.put('ticket', 'T-1');
  }
  async cycle(hw: Headwaters, ctx: RiverContext) {
    journal(`poll ${hw.requestId} ${ctx.cycle} ${hw.getString('ticket')}`);
    return ctx.cycle >= 4;
  }
}

/** Fails its first two attempts; the retry wait comes from the config. */
export class Flaky extends River<{ intervalMs: number }> {
  update(attr: RiverAttr) {
    attr.retryTimes = 4;
    attr.retryInterval = this.config!.intervalMs;
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    journal(`attempt ${hw.requestId} ${ctx.attempt} ${Date.now()}`);
    if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} fails`);
    hw.put('flaky', ctx.attempt);
  }
}

/** The class that a recovering engine may not know. */
export class Ghost extends River {
  async flow(hw: Headwaters) {
    journal(`start ${hw.requestId} ghost`);
    hw.put('ghost', true);
  }
}

export class SizeFork extends Fork {
  choose(hw: Headwaters) {
    return hw.requestId.endsWith('7') ? 'big' : 'small';
  }
}

export class End extends Atlantic {
  async success(hw: Headwaters) {
    journal(`atlantic-start ${hw.requestId}`);
    if (settings.hang === 'atlantic') {
      journal(`hanging ${hw.requestId} atlantic`);
      await never();
    }
    journal(`atlantic-done ${hw.requestId} success`);
  }
  async fail(hw: Headwaters) {
    journal(`atlantic-done ${hw.requestId} fail`);
  }
}

export const allClasses = [Step, Poll, Flaky, Ghost, SizeFork, End];

export type Scenario = 'chain' | 'poll' | 'retry' | 'ghost' | 'diamond';

/** Draws the scenario's flow for one requestId on an Andes. */
export function draw(andes: Andes, scenario: Scenario, requestId: string, retryIntervalMs = 400): Andes {
  andes.drawHeadwaters(new Headwaters(requestId)).drawAtlantic(new End());
  switch (scenario) {
    case 'chain':
      return andes.drawStream(new Step({ name: 'a' }), new Step({ name: 'b' }), new Step({ name: 'c' }));
    case 'poll':
      return andes.drawStream(new Step({ name: 'a' }), new Poll());
    case 'retry':
      return andes.drawStream(new Flaky({ intervalMs: retryIntervalMs }));
    case 'ghost':
      return andes.drawStream(new Step({ name: 'a' }), new Ghost());
    case 'diamond':
      return andes.drawStream(
        new ParallelRiver().append(new Step({ name: 'a', jitterMs: 30 })).append(new Step({ name: 'b', jitterMs: 30 })),
        new Step({ name: 'c', jitterMs: 30 }),
        new Basin('blue').drawStream(new Step({ name: 'd', jitterMs: 20 })),
        new SizeFork().branch('big', new Step({ name: 'big' })).branch('small', new Step({ name: 'small' })),
      );
  }
}
