import { expect } from 'chai';
import { durationMs } from '../../lib/clock/duration.js';

describe('durationMs', () => {
  const valid: Array<[number | string, number]> = [
    [0, 0],
    [250, 250],
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    [' 3s ', 3000],
    ['2d', 172_800_000],
    ['7d', 604_800_000],
    ['30d', 2_592_000_000],
    ['3650d', 315_360_000_000],
  ];
  for (const [input, ms] of valid) {
    it(`reads ${JSON.stringify(input)} as ${ms} ms`, () => expect(durationMs(input)).to.equal(ms));
  }
  for (const input of [-1, NaN, Infinity, '2', 'abc', '2w', '2D', '-2d', '-2s', '', null, {}, '1e3ms']) {
    it(`rejects ${typeof input === 'number' ? String(input) : JSON.stringify(input)}`, () => expect(durationMs(input)).to.equal(undefined));
  }
});
