import { expect } from 'chai';
import { durationMs } from '../../lib/clock/duration.js';

describe('durationMs', () => {
  const valid: Array<[number | string, number]> = [
    [0, 0], [250, 250], ['500ms', 500], ['2s', 2000], ['1.5s', 1500], ['5m', 300_000], ['1h', 3_600_000], [' 3s ', 3000],
  ];
  for (const [input, ms] of valid) {
    it(`reads ${JSON.stringify(input)} as ${ms} ms`, () => expect(durationMs(input)).to.equal(ms));
  }
  for (const input of [-1, NaN, Infinity, '2', 'abc', '2d', '-2s', '', null, {}, '1e3ms']) {
    it(`rejects ${typeof input === 'number' ? String(input) : JSON.stringify(input)}`, () => expect(durationMs(input)).to.equal(undefined));
  }
});
