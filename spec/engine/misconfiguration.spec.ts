// Misconfiguration that used to pass silently: each is rejected with a contract code and a message
// that names what is wrong, or (a value that is not JSON) fails the river at once.
import { expect } from 'chai';
import { Andes, Atlantic, Basin, Engine, Fork, Headwaters, River, type RiverAttr } from '../../lib/index.js';
import { forEachStore, rejects, runToEnd, startFlow, STORE_KINDS, thrown, useEngines } from '../helpers/stores.js';

class NoCycle extends River {
  constructor(readonly attrs: RiverAttr = {}) {
    super();
  }
  update(attr: RiverAttr): void {
    Object.assign(attr, this.attrs);
  }
}

class Polls extends River {
  polls = 0;
  constructor(readonly attrs: RiverAttr = {}) {
    super();
  }
  update(attr: RiverAttr): void {
    Object.assign(attr, this.attrs);
  }
  cycle(): boolean {
    this.polls++;
    return true;
  }
}

/** Inherits its cycle() from a user base class: that is its own cycle() too. */
class PollsToo extends Polls {}

class PutsDate extends River {
  calls = 0;
  update(attr: RiverAttr): void {
    attr.retryTimes = 3;
    attr.retryInterval = 0;
  }
  flow(hw: Headwaters): void {
    this.calls++;
    hw.put('order', { items: [{ at: new Date(0) as never }] });
  }
}

class Pick extends Fork {
  choose(): string {
    return 'a';
  }
}
class Done extends Atlantic {}
class Picked extends River {
  static riverName = 'Misconfig.Picked';
  flow() {}
}

forEachStore((kind) => {
  describe('misconfiguration', () => {
    const engines = useEngines(kind);

    it('rejects a river whose update() is async with E_INVALID_ATTR naming it: what it sets later would go unchecked', async () => {
      class Later extends River {
        static riverName = 'Misconfig.Later';
        // a mistake the types allow: update() awaits something, then sets an invalid attr
        async update(attr: RiverAttr) {
          await Promise.resolve();
          attr.retryTimes = -5;
        }
        flow() {}
      }
      const engine = await engines.open();
      const err = await rejects(startFlow(engine, [new Later()]));
      expect(err.code).to.equal('E_INVALID_ATTR');
      expect(err.message).to.equal('river Misconfig.Later: update() returned a promise; it must set the attributes at once (not async)');
      expect(await engine.list()).to.have.length(0);
    });

    it('draws a flow again from its toJSON() before it ever started, its classes not given to Engine.open', async () => {
      const engine = await engines.open();
      const drawn = new Andes(engine).drawStream(new Pick().branch('a', new Picked()), new Basin().drawStream(new Picked())).drawAtlantic(new Done());
      const blueprint = drawn.toJSON();
      const again = Andes.fromJSON(blueprint, engine);
      expect(again.toJSON()).to.deep.equal(blueprint);
      expect((await (await again.start()).result()).status).to.equal('success');
    });

    describe('the cycle', () => {
      it('rejects cycleTimes > 0 on a river without its own cycle() with E_INVALID_ATTR naming the river and cycleTimes', async () => {
        const engine = await engines.open();
        const err = await rejects(startFlow(engine, [new NoCycle({ cycleTimes: 3 })]));
        expect(err.code).to.equal('E_INVALID_ATTR');
        expect(err.message).to.contain('NoCycle').and.to.contain('cycleTimes');
      });

      it('rejects a river that defines cycle() but sets no cycleTimes, naming the river', async () => {
        const engine = await engines.open();
        const err = await rejects(startFlow(engine, [new Basin('b').drawStream(new Polls({ retryTimes: 1 }))]));
        expect(err.code).to.equal('E_INVALID_ATTR');
        expect(err.message).to.contain('river Polls: defines cycle() but sets no cycleTimes; set attr.cycleTimes, or 0 to turn the cycle off');
        expect((await rejects(startFlow(engine, [new PollsToo()]))).code).to.equal('E_INVALID_ATTR');
      });

      it('checks every river, even after an equal attr of another class was accepted', async () => {
        const engine = await engines.open();
        // the same raw attrs, accepted for one class, must still be rejected for the other
        expect((await runToEnd(engine, [new NoCycle({ retryTimes: 1 })])).outcome.status).to.equal('success');
        expect((await rejects(startFlow(engine, [new Polls({ retryTimes: 1 })]))).code).to.equal('E_INVALID_ATTR');
        expect((await runToEnd(engine, [new Polls({ cycleTimes: 2, cycleInterval: 0 })])).outcome.status).to.equal('success');
        expect((await rejects(startFlow(engine, [new NoCycle({ cycleTimes: 2, cycleInterval: 0 })]))).code).to.equal('E_INVALID_ATTR');
      });

      it('takes an explicit cycleTimes 0 on a river with a cycle(): no cycle, cycle() never called', async () => {
        const engine = await engines.open();
        const river = new Polls({ cycleTimes: 0 });
        const { id, outcome } = await runToEnd(engine, [river]);
        expect(outcome.status).to.equal('success');
        expect(river.polls).to.equal(0);
        expect((await engine.get(id))?.streams[0]?.cycles).to.equal(0);
      });
    });

    it('rejects engine.list() of an unknown status with E_INVALID_ARGUMENT listing the statuses', async () => {
      const engine = await engines.open();
      await runToEnd(engine, [new NoCycle()]);
      const err = await rejects(engine.list({ status: 'failed' as never }));
      expect(err.code).to.equal('E_INVALID_ARGUMENT');
      expect(err.message).to.contain('"failed"').and.to.contain('waiting, running, success, fail, cancelled');
      expect(await engine.list({ status: 'success' })).to.have.length(1);
    });

    it('rejects engine.list() of a query that is not one (null, an unknown option, a before that is no id) with E_INVALID_ARGUMENT', async () => {
      const engine = await engines.open();
      for (const [query, part] of [
        [null, 'got null'],
        [{ stauts: 'fail' }, 'unknown option stauts'],
        [{ before: 5 }, 'before must be a flow id'],
      ] as const) {
        const err = await rejects(engine.list(query as never));
        expect(err.code, part).to.equal('E_INVALID_ARGUMENT');
        expect(err.message).to.contain(part);
      }
      expect(await engine.list({ limit: 1 })).to.deep.equal([]);
    });

    it('does not retry a flow() whose hw.put throws E_NOT_SERIALIZABLE: one attempt, the key and path in the message', async () => {
      const engine = await engines.open();
      const river = new PutsDate();
      const { id, outcome } = await runToEnd(engine, [river]);
      expect(river.calls).to.equal(1);
      expect(outcome.status).to.equal('fail');
      expect(outcome.error?.code).to.equal('E_RIVER_FAILED');
      expect(outcome.error?.attempts).to.equal(1);
      expect(outcome.error?.message).to.contain('headwaters key "order" at items[0].at').and.to.contain('not retried');
      expect(outcome.error?.cause).to.contain('headwaters key "order" at items[0].at');
      expect((await engine.get(id))?.streams[0]?.attempts).to.equal(1);
    });

    it('rejects a cancel reason that is not a string with E_INVALID_ARGUMENT (it was recorded as "[object Object]")', async () => {
      const engine = await engines.open();
      const err = await rejects(engine.cancel('any-id', { why: 'x' } as never));
      expect(err.code).to.equal('E_INVALID_ARGUMENT');
      expect(err.message).to.contain('cancel: the reason must be a string, got an object');
    });
  });
});

describe('values that cannot be read', () => {
  it('gives E_NOT_SERIALIZABLE naming the key and path for a getter that throws, and for a Proxy whose trap throws', () => {
    const hw = new Headwaters('unreadable');
    const getter = thrown(() =>
      hw.put('order', {
        items: [
          {
            get price(): number {
              throw new Error('no price');
            },
          },
        ],
      }),
    );
    expect(getter.code).to.equal('E_NOT_SERIALIZABLE');
    expect(getter.message).to.equal('headwaters key "order" at items[0].price is not JSON: reading it threw (a getter or a Proxy): no price');
    const trap = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('no keys');
        },
      },
    );
    const proxy = thrown(() => hw.put('p', trap));
    expect(proxy.code).to.equal('E_NOT_SERIALIZABLE');
    expect(proxy.message).to.contain('headwaters key "p"').and.to.contain('no keys');
    expect(hw.has('order') || hw.has('p'), 'nothing put').to.equal(false);
    const symbol = thrown(() => hw.put(Symbol('k') as never, 1));
    expect(symbol.message).to.contain('got a symbol');
  });
});

// Andes.fromJSON reads no store: the memory store will do
describe('blueprint misconfiguration', () => {
  let engine: Engine;
  const engines = useEngines(STORE_KINDS[0]!);
  beforeEach(async () => {
    engine = await engines.open({ classes: [NoCycle, Polls, Pick, Done] });
  });

  it('names an unknown key of a stream in its E_BLUEPRINT message', () => {
    const err = thrown(() => Andes.fromJSON({ vastflow: 1, streams: [{ rivr: 'NoCycle' }] }, engine));
    expect(err.code).to.equal('E_BLUEPRINT');
    expect(err.message).to.contain('streams.0').and.to.contain('"rivr"');
    const nested = thrown(() => Andes.fromJSON({ vastflow: 1, streams: [{ parallel: [[{ river: 'NoCycle' }], [{ bsin: {} }]] }] }, engine));
    expect(nested.code).to.equal('E_BLUEPRINT');
    expect(nested.message).to.contain('streams.0.parallel.1.0').and.to.contain('"bsin"');
  });

  it('names an unknown top-level key in its E_BLUEPRINT message', () => {
    const err = thrown(() => Andes.fromJSON({ vastflow: 1, streams: [{ river: 'NoCycle' }], headwatrs: {} }, engine));
    expect(err.code).to.equal('E_BLUEPRINT');
    expect(err.message).to.contain('"headwatrs"');
  });

  it('lists the registered names of the kind asked for when a class is unknown', () => {
    const atlantic = thrown(() => Andes.fromJSON({ vastflow: 1, streams: [{ river: 'NoCycle' }], atlantic: 'Dne' }, engine));
    expect(atlantic.code).to.equal('E_UNKNOWN_CLASS');
    expect(atlantic.message).to.contain('"Dne"').and.to.contain(': Done');
    expect(atlantic.message).not.to.contain('NoCycle').and.not.to.contain('Pick');
    const river = thrown(() => Andes.fromJSON({ vastflow: 1, streams: [{ river: 'Nope' }] }, engine));
    expect(river.message).to.contain(': NoCycle, Polls').and.not.to.contain('Pick');
    const fork = thrown(() => Andes.fromJSON({ vastflow: 1, streams: [{ fork: 'Polls', branches: { a: [{ river: 'NoCycle' }] } }] }, engine));
    expect(fork.code).to.equal('E_UNKNOWN_CLASS');
    expect(fork.message).to.contain('"Polls"').and.to.contain(': Pick').and.not.to.contain('NoCycle');
  });
});
