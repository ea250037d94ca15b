// Misuse of the builders (an argument that is not what the method takes) throws a VastflowError
// at the call, with a contract code and a message that names the method and what was wrong, not
// later at start(); an argument of the wrong kind gives one that is a TypeError too.
import { expect } from 'chai';
import { Andes, Atlantic, Basin, Dam, Fork, Headwaters, isVastflowError, ParallelRiver, River, VastflowError } from '../../lib/index.js';
import { rejects, STORE_KINDS, thrown, useEngines } from '../helpers/stores.js';

class R extends River {
  static riverName = 'ArgsR';
}
class F extends Fork {
  static riverName = 'ArgsF';
  choose(): string {
    return 'a';
  }
}

/** The error `fn` throws, checked to be a VastflowError with `code` whose message contains every part. */
function expectError(fn: () => unknown, code: string, ...parts: string[]): void {
  const err = thrown(fn);
  expect(isVastflowError(err), `${err.constructor.name}: ${err.message}`).to.equal(true);
  expect(err.code, err.message).to.equal(code);
  for (const part of parts) expect(err.message).to.contain(part);
}

describe('builder arguments', () => {
  const engines = useEngines(STORE_KINDS[0]!);

  it('gives for an argument of the wrong kind a VastflowError E_INVALID_ARGUMENT that is a TypeError too', async () => {
    const engine = await engines.open();
    const calls: Array<() => unknown> = [
      () => new Andes(engine).drawStream({} as never),
      () => new ParallelRiver().append(null as never),
      () => new Andes(engine).drawHeadwaters({} as never),
      () => engine.register(42 as never),
      () => new R().withColor(7 as never),
    ];
    for (const call of calls) {
      const err = thrown(call);
      expect(err, err.message).to.be.instanceOf(TypeError);
      expect(err, err.message).to.be.instanceOf(VastflowError);
      expect(isVastflowError(err, 'E_INVALID_ARGUMENT'), err.message).to.equal(true);
    }
    const other = new VastflowError('E_CLOSED', 'closed');
    expect(other).to.be.instanceOf(VastflowError);
    expect(other).to.not.be.instanceOf(TypeError);
  });
  const notStreams: Array<[string, unknown, string]> = [
    ['a plain object', {}, 'got an object'],
    ['null', null, 'got null'],
    ['undefined', undefined, 'got undefined'],
    ['a number', 42, 'got a number (42)'],
    ['a Headwaters', new Headwaters('x'), 'got an instance of Headwaters'],
    ['a River class', R, 'got the class R'],
  ];

  for (const [what, value, got] of notStreams) {
    it(`drawStream of ${what} throws E_INVALID_ARGUMENT naming the method and what it got`, async () => {
      const engine = await engines.open();
      expectError(
        () => new Andes(engine).drawStream(new R(), value as never),
        'E_INVALID_ARGUMENT',
        'drawStream',
        'River, ParallelRiver, Basin, Fork or Dam',
        got,
      );
    });

    it(`ParallelRiver.append of ${what} throws E_INVALID_ARGUMENT naming the method and what it got`, () => {
      expectError(() => new ParallelRiver().append(value as never), 'E_INVALID_ARGUMENT', 'ParallelRiver.append', got);
    });

    it(`Basin.drawStream of ${what} throws E_INVALID_ARGUMENT naming the method and what it got`, () => {
      expectError(() => new Basin('blue').drawStream(value as never), 'E_INVALID_ARGUMENT', 'Basin.drawStream', got);
    });

    it(`Fork.branch with a stream that is ${what} throws E_INVALID_ARGUMENT naming the method and what it got`, () => {
      expectError(() => new F().branch('a', value as never), 'E_INVALID_ARGUMENT', 'Fork.branch', got);
    });
  }

  it('drawStream of a class suggests drawing an instance', async () => {
    const engine = await engines.open();
    expectError(() => new Andes(engine).drawStream(R as never), 'E_INVALID_ARGUMENT', 'new R()');
  });

  it('drawStream draws nothing when one of its arguments is bad', async () => {
    const engine = await engines.open();
    const andes = new Andes(engine);
    thrown(() => andes.drawStream(new R(), {} as never));
    expect(andes.toJSON().streams).to.deep.equal([]);
  });

  it('drawHeadwaters of something that is not a Headwaters throws E_INVALID_ARGUMENT', async () => {
    const engine = await engines.open();
    expectError(() => new Andes(engine).drawHeadwaters({ a: 1 } as never), 'E_INVALID_ARGUMENT', 'drawHeadwaters', 'Headwaters', 'got an object');
  });

  it('drawAtlantic of something that is not an Atlantic throws E_INVALID_ARGUMENT', async () => {
    const engine = await engines.open();
    expectError(() => new Andes(engine).drawAtlantic({} as never), 'E_INVALID_ARGUMENT', 'drawAtlantic', 'Atlantic', 'got an object');
  });

  it('new Andes of something that is not an Engine throws E_INVALID_ARGUMENT at once, not at start()', () => {
    expectError(() => new Andes({} as never), 'E_INVALID_ARGUMENT', 'Andes', 'Engine', 'got an object');
    expectError(() => new Andes(null as never), 'E_INVALID_ARGUMENT', 'Andes', 'got null');
  });

  it('Andes.fromJSON with something that is not an Engine throws E_INVALID_ARGUMENT naming fromJSON', () => {
    expectError(() => Andes.fromJSON({ vastflow: 1, streams: [{ river: 'ArgsR' }] }, 42 as never), 'E_INVALID_ARGUMENT', 'Andes.fromJSON', 'got a number (42)');
  });

  it('new Andes takes an engine, or none (the default engine)', async () => {
    const engine = await engines.open();
    expect(() => new Andes(engine)).to.not.throw();
    expect(() => new Andes()).to.not.throw();
    expect(() => new Andes(undefined)).to.not.throw();
  });

  for (const [what, color, got] of [
    ['a number', 42, 'got a number (42)'],
    ['an empty string', '', 'got a string ("")'],
  ] as const) {
    it(`new Basin with ${what} as color throws E_INVALID_ARGUMENT naming Basin`, () => {
      expectError(() => new Basin(color as never), 'E_INVALID_ARGUMENT', 'Basin', 'color', got);
    });
  }

  it('withColor with a color that is not a non-empty string throws E_INVALID_ARGUMENT', () => {
    expectError(() => new R().withColor(7 as never), 'E_INVALID_ARGUMENT', 'withColor', 'got a number (7)');
  });

  it('Fork.branch with a name drawn twice throws E_DUPLICATE_NAME naming the fork and the branch', () => {
    const fork = new F().branch('a', new R());
    expectError(() => fork.branch('a', new R()), 'E_DUPLICATE_NAME', 'Fork.branch', 'ArgsF', '"a"');
    expect([...fork.branches.keys()]).to.deep.equal(['a']);
  });

  for (const [what, name, got] of [
    ['an empty', '', 'got a string ("")'],
    ['a number as', 1, 'got a number (1)'],
  ] as const) {
    it(`Fork.branch with ${what} name throws E_INVALID_ARGUMENT`, () => {
      expectError(() => new F().branch(name as never, new R()), 'E_INVALID_ARGUMENT', 'Fork.branch', 'name', got);
    });
  }

  for (const [what, value, got] of [
    ['a number', 42, 'got a number (42)'],
    ['a plain function', () => 1, 'got a function'],
    ['an instance', new R(), 'got an instance of R'],
    ['a class of no kind', class Plain {}, 'Plain'],
  ] as const) {
    it(`engine.register of ${what} throws E_INVALID_ARGUMENT naming register`, async () => {
      const engine = await engines.open();
      expectError(() => engine.register(value as never), 'E_INVALID_ARGUMENT', 'register', 'River, Fork or Atlantic', got);
    });
  }

  it('hw.tmpPut with an empty key throws E_INVALID_ARGUMENT as hw.put does', () => {
    const hw = new Headwaters();
    expectError(() => hw.put('', 1 as never), 'E_INVALID_ARGUMENT', 'Headwaters.put');
    expectError(() => hw.tmpPut('', 1), 'E_INVALID_ARGUMENT', 'Headwaters.tmpPut', 'key');
    expectError(() => hw.tmpPut(3 as never, 1), 'E_INVALID_ARGUMENT', 'Headwaters.tmpPut', 'got a number (3)');
    expect(hw.tmpGet('')).to.equal(undefined);
  });

  it('keeps the valid calls as they were', async () => {
    const engine = await engines.open();
    class Done extends Atlantic {
      static riverName = 'ArgsDone';
    }
    const hw = new Headwaters('args-ok').tmpPut('client', { any: 'thing' });
    const run = await new Andes(engine)
      .drawHeadwaters(hw)
      .drawStream(new ParallelRiver().append(new R()).append(new R(), new Dam({ delay: 1 })))
      .drawStream(new Basin('blue').drawStream(new R()))
      .drawStream(new F().branch('a', new R()).branch('b', new R().withColor('red')))
      .drawAtlantic(new Done())
      .start();
    engine.register(R, F, Done);
    expect(hw.tmpGet('client')).to.deep.equal({ any: 'thing' });
    expect((await run.result()).status).to.equal('success');
  });
});

// A class is registered, and written in blueprints, under its static riverName or else its class
// name. An anonymous class has neither: it would be registered as "" and its blueprint would not
// read back. It is refused where it is drawn or registered.
describe('anonymous classes', () => {
  const engines = useEngines(STORE_KINDS[0]!);
  const anonRiver = () => class extends River {};
  const anonFork = () =>
    class extends Fork {
      choose(): string {
        return 'a';
      }
    };
  const anonAtlantic = () => class extends Atlantic {};

  it('has no name to test with', () => {
    expect([anonRiver().name, anonFork().name, anonAtlantic().name]).to.deep.equal(['', '', '']);
  });

  it('drawStream of a river of an anonymous class throws E_INVALID_ARGUMENT asking for a static riverName', async () => {
    const engine = await engines.open();
    const andes = new Andes(engine);
    expectError(() => andes.drawStream(new (anonRiver())()), 'E_INVALID_ARGUMENT', 'drawStream', 'anonymous', 'static riverName');
    expect(andes.toJSON().streams).to.deep.equal([]);
  });

  it('drawStream of a fork of an anonymous class throws E_INVALID_ARGUMENT asking for a static riverName', async () => {
    const engine = await engines.open();
    expectError(() => new Andes(engine).drawStream(new (anonFork())().branch('a', new R())), 'E_INVALID_ARGUMENT', 'drawStream', 'Fork', 'static riverName');
  });

  it('append, Basin.drawStream and Fork.branch refuse a river of an anonymous class too', () => {
    expectError(() => new ParallelRiver().append(new R(), new (anonRiver())()), 'E_INVALID_ARGUMENT', 'ParallelRiver.append', 'static riverName');
    expectError(() => new Basin().drawStream(new (anonRiver())()), 'E_INVALID_ARGUMENT', 'Basin.drawStream', 'static riverName');
    expectError(() => new F().branch('a', new (anonRiver())()), 'E_INVALID_ARGUMENT', 'Fork.branch', 'static riverName');
  });

  it('drawAtlantic of an anonymous Atlantic class throws E_INVALID_ARGUMENT asking for a static riverName', async () => {
    const engine = await engines.open();
    expectError(() => new Andes(engine).drawAtlantic(new (anonAtlantic())()), 'E_INVALID_ARGUMENT', 'drawAtlantic', 'static riverName');
  });

  it('engine.register and Engine.open({ classes }) refuse an anonymous class with E_INVALID_ARGUMENT', async () => {
    const engine = await engines.open();
    for (const cls of [anonRiver(), anonFork(), anonAtlantic()]) {
      expectError(() => engine.register(cls), 'E_INVALID_ARGUMENT', 'register', 'static riverName');
    }
    expect(engine.classes.names()).to.not.include('');
    const err = await rejects(engines.open({ classes: [anonRiver()] }));
    expect(err.code).to.equal('E_INVALID_ARGUMENT');
    expect(err.message).to.contain('static riverName');
  });

  it('takes an anonymous class with a static riverName, and its blueprint reads back', async () => {
    const engine = await engines.open();
    const Named = class extends River {
      static riverName = 'AnonButNamed';
    };
    const make = () =>
      class extends River {
        static riverName = 'AnonNamedToo';
      };
    const andes = new Andes(engine).drawStream(new Named(), new (make())());
    const run = await andes.start();
    expect((await run.result()).status).to.equal('success');
    expect(andes.toJSON().streams).to.deep.equal([{ river: 'AnonButNamed' }, { river: 'AnonNamedToo' }]);
    expect(Andes.fromJSON(andes.toJSON(), engine).toJSON()).to.deep.equal(andes.toJSON());
  });
});
