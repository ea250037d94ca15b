// W0b: the device's limit: db.batch of 1000 puts of 100-byte values, one batch in flight.
import { Level } from 'level';
import { round, tempDir, VALUE_100B, type Scenario } from '../common.js';

export const w0b: Scenario = {
  id: 'W0b',
  title: 'LevelDB batch puts (device limit)',
  repeats: 3,
  async run({ quick }) {
    const batches = quick ? 100 : 1000;
    const db = new Level<string, string>(tempDir('w0b'), { valueEncoding: 'utf8' });
    await db.open();
    const t0 = performance.now();
    for (let b = 0; b < batches; b++) {
      const ops = [];
      for (let i = 0; i < 1000; i++) ops.push({ type: 'put' as const, key: `k${b}-${i}`, value: VALUE_100B });
      await db.batch(ops);
    }
    const s = (performance.now() - t0) / 1000;
    await db.close();
    return { primary: 'puts_per_s', figures: { puts: batches * 1000, puts_per_s: round((batches * 1000) / s, 0) } };
  },
};
