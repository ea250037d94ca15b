import { expect } from 'chai';
import { nextDelayMs } from '../../lib/engine/retry-policy.js';

describe('nextDelayMs', () => {
  const policy = { retryIntervalMs: 1000, retryBackoff: 2, retryMaxIntervalMs: undefined as number | undefined, retryJitter: 0 };
  const rows: Array<[string, Partial<typeof policy>, number, number]> = [
    ['first retry waits the interval', {}, 1, 1000],
    ['backoff doubles the second wait', {}, 2, 2000],
    ['backoff compounds', {}, 4, 8000],
    ['backoff 1 keeps the interval', { retryBackoff: 1 }, 5, 1000],
    ['the max interval caps the wait', { retryMaxIntervalMs: 3000 }, 4, 3000],
    ['a cap above the wait changes nothing', { retryMaxIntervalMs: 10_000 }, 2, 2000],
    ['a huge attempt count stays finite under the cap', { retryMaxIntervalMs: 60_000 }, 5000, 60_000],
  ];
  for (const [title, over, attempt, expected] of rows) {
    it(title, () => expect(nextDelayMs({ ...policy, ...over }, attempt, () => 0.5)).to.equal(expected));
  }

  it('jitter draws its fraction of the wait at random', () => {
    const p = { ...policy, retryJitter: 0.5 };
    expect(nextDelayMs(p, 1, () => 0)).to.equal(500);
    expect(nextDelayMs(p, 1, () => 0.5)).to.equal(750);
    expect(nextDelayMs(p, 1, () => 0.999)).to.equal(1000);
  });

  it('full jitter spans zero to the whole wait', () => {
    const p = { ...policy, retryJitter: 1 };
    expect(nextDelayMs(p, 2, () => 0)).to.equal(0);
    expect(nextDelayMs(p, 2, () => 0.25)).to.equal(500);
  });
});
