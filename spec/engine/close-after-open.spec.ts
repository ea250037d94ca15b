// close() right after Engine.open(): the flows recovery was loading must stay in the store; no user
// code of that engine runs once close() has resolved, and no timer is left to keep the process up.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine, Headwaters, ParallelRiver, River, type RiverAttr, type RiverContext } from '../../lib/index.js';
import { silent, sleep, startFlow, until } from '../helpers/stores.js';

let polls: string[] = [];

class SlowPoll extends River<{ name: string }> {
  update(attr: RiverAttr) {
    attr.cycleTimes = 1000;
    attr.cycleInterval = 20;
  }
  cycle(_hw: Headwaters, ctx: RiverContext) {
    polls.push(`${this.config!.name} ${ctx.cycle}`);
    return false;
  }
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('close() right after Engine.open() on a store with flows mid-poll', () => {
  let dir: string;
  beforeEach(() => {
    polls = [];
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-close-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const open = (options: { closeTimeout?: number } = {}) => Engine.open({ store: dir, logger: silent, classes: [SlowPoll], closeTimeout: 200, ...options });

  for (const shape of ['inside a ParallelRiver', 'at the top level'] as const) {
    it(`runs no poll after close() resolves, for a flow polling ${shape}`, async () => {
      const first = await open();
      for (let i = 0; i < 3; i++) {
        const streams =
          shape === 'at the top level'
            ? [new SlowPoll({ name: `${i}` })]
            : [new ParallelRiver().append(new SlowPoll({ name: `${i}a` })).append(new SlowPoll({ name: `${i}b` }))];
        await startFlow(first, streams, new Headwaters(`poll-${i}`));
      }
      await until(() => polls.length >= 6, 2000, 'a few polls');
      await first.close();

      const before = timers();
      polls = [];
      const second = await open();
      await second.close();
      const atClose = polls.length;
      await sleep(120);
      expect(polls.slice(atClose), 'polls after close() resolved').to.deep.equal([]);
      expect(timers(), 'timers left by the closed engine').to.be.at.most(before);

      // the flows stayed in the store, still running, for the next engine
      const third = await open();
      const flows = await third.list({ status: 'running' });
      expect(flows).to.have.length(3);
      await until(() => polls.length > atClose, 2000, 'the next engine resuming the polls');
      await third.close();
    });
  }
});
