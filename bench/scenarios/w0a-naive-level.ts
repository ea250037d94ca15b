// W0a: the naive engine's limit: plain `level` code doing W1's work by hand, same concurrency.
// Per flow: a batch at start; per river one db.batch of its state + the whole context (100 bytes
// per river so far); a batch at the end.
import { Level } from 'level';
import { round, tempDir, VALUE_100B, windowed, type Scenario } from '../common.js';

export const w0a: Scenario = {
  id: 'W0a',
  title: 'naive LevelDB loop (W1 by hand)',
  repeats: 3,
  async run({ quick }) {
    const flows = quick ? 1000 : 10_000;
    const db = new Level<string, string>(tempDir('w0a'), { valueEncoding: 'utf8' });
    await db.open();
    const river = async (id: string, ctx: Record<string, string>, name: string): Promise<void> => {
      ctx[name] = VALUE_100B;
      await db.batch([
        { type: 'put', key: `${id}!river!${name}`, value: JSON.stringify({ state: 'success', attempts: 1 }) },
        { type: 'put', key: `${id}!ctx`, value: JSON.stringify(ctx) },
      ]);
    };
    const t0 = performance.now();
    await windowed(flows, 200, async (i) => {
      const id = `flow-${i}`;
      const ctx: Record<string, string> = {};
      await db.batch([{ type: 'put', key: `${id}!flow`, value: JSON.stringify({ status: 'running' }) }]);
      await Promise.all([river(id, ctx, 'a'), river(id, ctx, 'b')]);
      await river(id, ctx, 'c');
      await db.batch([{ type: 'put', key: `${id}!flow`, value: JSON.stringify({ status: 'success' }) }]);
    });
    const s = (performance.now() - t0) / 1000;
    await db.close();
    return { primary: 'flows_per_s', figures: { flows, flows_per_s: round(flows / s, 0) } };
  },
};
