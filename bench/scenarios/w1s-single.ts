// W1s: W1 with one flow at a time: the latency of one unloaded flow.
import type { Scenario } from '../common.js';
import { runDiamond } from './w1-diamond.js';

export const w1s: Scenario = {
  id: 'W1s',
  title: 'diamond, one flow at a time',
  repeats: 3,
  run: async ({ quick }) => ({ ...(await runDiamond({ flows: quick ? 100 : 1000, window: 1, store: 'level' })), primary: 'p50_ms' }),
};
