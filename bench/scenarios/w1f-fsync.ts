// W1f: W1 with sync: true (every write fsynced before the flow moves on).
import type { Scenario } from '../common.js';
import { runDiamond } from './w1-diamond.js';

export const w1f: Scenario = {
  id: 'W1f',
  title: 'diamond, LevelDB with fsync',
  repeats: 3,
  run: ({ quick }) => runDiamond({ flows: quick ? 1000 : 10_000, window: 200, store: 'level', sync: true }),
};
