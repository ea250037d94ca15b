// W2: W1 on the memory store: the engine's own cost, no I/O.
import type { Scenario } from '../common.js';
import { runDiamond } from './w1-diamond.js';

export const w2: Scenario = {
  id: 'W2',
  title: 'diamond, memory store',
  repeats: 3,
  run: ({ quick }) => runDiamond({ flows: quick ? 1000 : 10_000, window: 200, store: 'memory' }),
};
