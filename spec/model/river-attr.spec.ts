import { expect } from 'chai';
import { resolveRiverAttr, riverAttrSchema } from '../../lib/model/river-attr.js';
import { engineOptionsSchema } from '../../lib/engine/engine-options.js';

describe('riverAttrSchema', () => {
  it('parse({}) gives the documented defaults', () => {
    expect(riverAttrSchema.parse({})).to.deep.equal({
      retryTimes: 0,
      retryInterval: 1000,
      retryBackoff: 1,
      retryJitter: 0,
      cycleTimes: 0,
      cycleInterval: 1000,
      durable: false,
      atomic: false,
    });
  });

  it('resolves durations to milliseconds with Ms names', () => {
    const a = resolveRiverAttr({ retryInterval: '2s', retryMaxInterval: '1m', cycleInterval: '250ms', timeout: '1h' }, 'R');
    expect(a).to.include({ retryIntervalMs: 2000, retryMaxIntervalMs: 60_000, cycleIntervalMs: 250, timeoutMs: 3_600_000 });
  });

  it('names the river and the field of a bad attr', () => {
    expect(() => resolveRiverAttr({ cycleInterval: 'soon' }, 'PollVm'))
      .to.throw(/river PollVm.*cycleInterval/)
      .with.property('code', 'E_INVALID_ATTR');
    expect(() => resolveRiverAttr({ retryTime: 3 } as never, 'PollVm')).to.throw(/unknown field retryTime/);
  });

  it('does not let a cached good attr hide a bad one of the same shape', () => {
    resolveRiverAttr({ retryTimes: 2 }, 'R');
    expect(() => resolveRiverAttr({ retryTimes: 2, extra: () => 1 } as never, 'R')).to.throw(/unknown field extra/);
    expect(() => resolveRiverAttr({ retryTimes: Infinity }, 'R')).to.throw(/retryTimes/);
  });
});

describe('engineOptionsSchema', () => {
  it('parse({}) gives the documented defaults', () => {
    const saved = process.env['VASTFLOW_DB'];
    delete process.env['VASTFLOW_DB'];
    try {
      expect(engineOptionsSchema.parse({})).to.deep.equal({
        store: '.vastflow',
        concurrency: 500,
        recover: true,
        classes: [],
        sync: false,
        closeTimeout: 10_000,
        worker: { leaseTime: 30_000, heartbeat: 5_000, reconnectFor: 60_000, connectTimeout: 10_000, listen: true },
      });
    } finally {
      if (saved !== undefined) process.env['VASTFLOW_DB'] = saved;
    }
  });
});
