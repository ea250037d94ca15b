import { expect } from 'chai';
import fs from 'node:fs';
import { pino } from 'pino';
import { Andes, Atlantic, Basin, blueprintSchema, Dam, Engine, Fork, Headwaters, ParallelRiver, River, type Blueprint } from '../../lib/index.js';
import { schemaFile, schemaText } from '../../scripts/blueprint-schema.js';

class A extends River {
  static riverName = 'A';
  async flow(hw: Headwaters) {
    hw.put('a', (hw.getNumber('a') ?? 0) + 1);
  }
}
class B extends River<{ n: number }> {
  async flow(hw: Headwaters) {
    hw.put('b', this.config!.n);
  }
}
class Pick extends Fork<{ branch: string }> {
  choose() {
    return this.config!.branch;
  }
}
class Done extends Atlantic {
  static seen: string[] = [];
  async success(hw: Headwaters) {
    Done.seen.push(hw.requestId);
  }
}

const every: Blueprint = {
  vastflow: 1,
  requestId: 'bp-1',
  headwaters: { start: { nested: [1, 'two', null, true] } },
  reqInfo: { user: 'u1' },
  streams: [
    {
      parallel: [
        [{ river: 'A' }],
        [
          { river: 'B', config: { n: 2 } },
          { river: 'A', color: 'red' },
        ],
      ],
      color: 'teal',
    },
    { basin: { color: 'blue', streams: [{ river: 'B', config: { n: 3 } }] } },
    { fork: 'Pick', config: { branch: 'left' }, branches: { left: [{ river: 'A' }], right: [{ basin: { streams: [{ river: 'A' }] } }] } },
    { river: 'B', config: { n: 4 }, color: 'red' },
  ],
  atlantic: 'Done',
};

describe('blueprints', () => {
  let engine: Engine;
  beforeEach(async () => {
    engine = await Engine.open({ store: 'memory', classes: [A, B, Pick, Done], logger: pino({ level: 'silent' }) });
  });
  afterEach(() => engine.close());

  it('round-trips every stream kind: fromJSON(json).toJSON() is the same blueprint', () => {
    expect(Andes.fromJSON(every, engine).toJSON()).to.deep.equal(every);
    expect(Andes.fromJSON(JSON.stringify(every), engine).toJSON()).to.deep.equal(every);
  });

  it("draws an equal flow from a drawing's own JSON", () => {
    const drawn = new Andes(engine)
      .drawHeadwaters(new Headwaters('bp-2').put('x', 1))
      .drawStream(new ParallelRiver().append(new A()).append(new B({ n: 1 })), new Basin('blue').drawStream(new A()))
      .drawStream(new Pick({ branch: 'l' }).branch('l', new A()).branch('r', new B({ n: 9 }).withColor('red')))
      .drawAtlantic(new Done());
    const json = drawn.toJSON();
    expect(Andes.fromJSON(json, engine).toJSON()).to.deep.equal(json);
    expect(Andes.fromJSON(json, engine).toMermaid()).to.equal(drawn.toMermaid());
  });

  it('runs a flow drawn from a blueprint, and records that same blueprint in the store', async () => {
    Done.seen = [];
    const run = await Andes.fromJSON(every, engine).start();
    const outcome = await run.result();
    expect(outcome.status).to.equal('success');
    expect(outcome.headwaters).to.deep.equal({ start: { nested: [1, 'two', null, true] }, a: 3, b: 4 });
    expect(Done.seen).to.deep.equal(['bp-1']);
    expect((await engine.get(run.id))!.blueprint).to.deep.equal(every);
  });

  describe('Dams', () => {
    const streamsOf = (...dams: Dam[]): unknown[] => new Andes(engine).drawStream(...dams).toJSON().streams;

    it("writes a timed Dam's onTimeout, the default 'fail' too, as the contract's example shows", () => {
      const example = '{"dam":"approval","timeout":"7d","key":"decision","onTimeout":"fail"}';
      expect(JSON.stringify(streamsOf(new Dam('approval', { timeout: '7d', key: 'decision', onTimeout: 'fail' })))).to.equal(`[${example}]`);
      expect(JSON.stringify(streamsOf(new Dam('approval', { timeout: '7d', key: 'decision' })))).to.equal(`[${example}]`);
      expect(streamsOf(new Dam('approval', { timeout: 1000 }), new Dam('approval', { timeout: '1h', onTimeout: 'continue' }))).to.deep.equal([
        { dam: 'approval', timeout: 1000, onTimeout: 'fail' },
        { dam: 'approval', timeout: '1h', onTimeout: 'continue' },
      ]);
    });

    it('keeps the form of a Dam without a timeout and of a durable sleep', () => {
      expect(
        streamsOf(new Dam('approval'), new Dam('approval', { key: 'k' }), new Dam('approval', { onTimeout: 'continue' }), new Dam({ delay: '3d' })),
      ).to.deep.equal([{ dam: 'approval' }, { dam: 'approval', key: 'k' }, { dam: 'approval', onTimeout: 'continue' }, { dam: null, delay: '3d' }]);
    });

    it('reads a timed Dam without onTimeout as onTimeout "fail", and writes it back with it', () => {
      const andes = Andes.fromJSON({ vastflow: 1, streams: [{ dam: 'approval', timeout: '7d', key: 'decision' }] }, engine);
      const bp = andes.toJSON();
      expect(bp.streams).to.deep.equal([{ dam: 'approval', timeout: '7d', key: 'decision', onTimeout: 'fail' }]);
      expect(Andes.fromJSON(bp, engine).toJSON()).to.deep.equal(bp);
      expect(blueprintSchema.safeParse(bp).success).to.equal(true);
    });
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['no version', { streams: [] }, /at vastflow:/],
    ['a wrong version', { vastflow: 2, streams: [] }, /at vastflow:/],
    ['an unknown top-level field', { vastflow: 1, streams: [], stream: [] }, /stream/],
    ['a stream of no known kind', { vastflow: 1, streams: [{ rivr: 'A' }] }, /at streams\.0/],
    ['an empty river name', { vastflow: 1, streams: [{ river: 'A' }, { river: '' }] }, /at streams\.1\.river/],
    [
      'a non-JSON-able config deep inside',
      { vastflow: 1, streams: [{ parallel: [[{ river: 'A', config: { f: 1n } }]] }] },
      /at streams\.0\.parallel\.0\.0\.config/,
    ],
    ['a branch that is not a list', { vastflow: 1, streams: [{ fork: 'Pick', branches: { left: { river: 'A' } } }] }, /at streams\.0\.branches\.left/],
    ['text that is not JSON', '{"vastflow": 1,', /not JSON/],
    ['a requestId of spaces', { vastflow: 1, requestId: '   ', streams: [{ river: 'A' }] }, /at requestId: must be a non-empty string, got " {3}"/],
    ['an empty headwaters key', { vastflow: 1, headwaters: { '': 1 }, streams: [{ river: 'A' }] }, /at headwaters: a key must be a non-empty string/],
    [
      'a requestId cut inside a surrogate pair',
      { vastflow: 1, requestId: 'order-\ud83d', streams: [{ river: 'A' }] },
      /at requestId: must be well-formed text: it holds a lone surrogate \(U\+D83D\) at index 6/,
    ],
    [
      'a headwaters key with a lone surrogate',
      { vastflow: 1, headwaters: { 'k\udc00': 1 }, streams: [{ river: 'A' }] },
      /at headwaters: the key "k\\udc00" must be well-formed text/,
    ],
    [
      'a NaN in the headwaters (an object built in code)',
      { vastflow: 1, headwaters: { n: NaN }, streams: [{ river: 'A' }] },
      /at headwaters\.n: NaN is not a JSON value/,
    ],
    [
      'an Infinity in a config deep inside',
      { vastflow: 1, streams: [{ basin: { streams: [{ river: 'A', config: { n: [Infinity] } }] } }] },
      /at streams\.0\.basin\.streams\.0\.config\.n\.0: Infinity is not a JSON value/,
    ],
    [
      'a Dam with a timeout that is no duration',
      { vastflow: 1, streams: [{ river: 'A' }, { dam: 'x', timeout: 'soon' }] },
      /at streams\.1: Dam "x": timeout must be/,
    ],
    [
      'a durable sleep of no duration in a fork branch',
      { vastflow: 1, streams: [{ fork: 'Pick', branches: { left: [{ dam: null, delay: 'later' }] } }] },
      /at streams\.0\.branches\.left\.0: Dam: delay must be/,
    ],
  ];
  for (const [what, input, where] of bad) {
    it(`rejects ${what} with E_BLUEPRINT and the path of the problem`, () => {
      expect(() => Andes.fromJSON(input, engine))
        .to.throw(where)
        .with.property('code', 'E_BLUEPRINT');
    });
  }

  // A stream's kind is the key it has (river, parallel, basin, fork, dam): its problem is reported
  // as that kind's, not as another kind's missing key ("at streams.0.river: expected string").
  const wrongField: Array<[string, unknown, string]> = [
    ['a Dam with a bad onTimeout', { dam: 'x', onTimeout: 'explode' }, 'at streams.0.onTimeout: Invalid option: expected one of "fail"|"continue"'],
    ['a Dam with a key that is not a string', { dam: 'x', key: 5 }, 'at streams.0.key: Invalid input: expected string, received number'],
    ['a Dam with a negative timeout', { dam: 'x', timeout: -1 }, 'at streams.0.timeout: Too small: expected number to be >=0'],
    ['a Dam with an unknown field', { dam: 'x', keys: 'k' }, 'at streams.0: Unrecognized key: "keys"'],
    ['a named Dam with a delay', { dam: 'x', delay: '1d' }, 'at streams.0: a named Dam takes "timeout", not "delay"'],
    ['a river with a color that is not a string', { river: 'A', color: 1 }, 'at streams.0.color: Invalid input: expected string, received number'],
    ['a parallel that is not a list', { parallel: 5 }, 'at streams.0.parallel: Invalid input: expected array, received number'],
    ['a parallel with a bad color', { parallel: [], color: 1 }, 'at streams.0.color: Invalid input: expected string, received number'],
    ['a basin without streams', { basin: {} }, 'at streams.0.basin.streams: Invalid input: expected array, received undefined'],
    ['a fork without branches', { fork: 'Pick' }, 'at streams.0.branches: Invalid input: expected record, received undefined'],
    ['a fork with a bad color', { fork: 'Pick', branches: {}, color: 1 }, 'at streams.0.color: Invalid input: expected string, received number'],
    ['a Dam in a parallel branch', { parallel: [[{ river: 'A' }], [{ dam: 'x', key: 5 }]] }, 'at streams.0.parallel.1.0.key: Invalid input: expected string'],
    [
      'a Dam in a basin',
      { basin: { streams: [{ river: 'A' }, { dam: 'x', onTimeout: 'explode' }] } },
      'at streams.0.basin.streams.1.onTimeout: Invalid option',
    ],
    ['a Dam in a fork branch', { fork: 'Pick', branches: { left: [{ dam: 'x', onTimeout: 'no' }] } }, 'at streams.0.branches.left.0.onTimeout: Invalid option'],
    [
      'a Dam deep inside',
      { basin: { streams: [{ fork: 'Pick', branches: { timeout: [{ parallel: [[{ dam: 'x', timeout: true }]] }] } }] } },
      'at streams.0.basin.streams.0.branches.timeout.0.parallel.0.0.timeout: Invalid input: expected number, received boolean',
    ],
    ['a stream with no kind', { color: 'red' }, 'at streams.0: a stream has one of the keys "river", "parallel", "basin", "fork", "dam"; this one has none'],
    [
      'a stream of two kinds',
      { river: 'A', dam: 'x' },
      'at streams.0: a stream has one of the keys "river", "parallel", "basin", "fork", "dam"; this one has "river" and "dam"',
    ],
    ['a stream that is not an object', 5, 'at streams.0: Invalid input: expected object, received number'],
  ];
  for (const [what, stream, problem] of wrongField) {
    it(`names the real problem of ${what}`, () => {
      expect(() => Andes.fromJSON({ vastflow: 1, streams: [stream] }, engine))
        .to.throw(`blueprint: ${problem}`)
        .with.property('code', 'E_BLUEPRINT');
    });
  }

  it('cuts a long unknown class name in its E_UNKNOWN_CLASS message, saying its length', () => {
    let err: (Error & { code?: string }) | undefined;
    try {
      Andes.fromJSON({ vastflow: 1, streams: [{ river: 'x'.repeat(1_000_000) }] }, engine);
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err?.code).to.equal('E_UNKNOWN_CLASS');
    expect(err?.message).to.contain(`"${'x'.repeat(120)}"… (1000000 characters)`);
    expect(err?.message.length).to.be.below(400);
  });

  it('rejects an unknown class with E_UNKNOWN_CLASS listing the registered names', () => {
    const err = (() => {
      try {
        Andes.fromJSON({ vastflow: 1, streams: [{ river: 'Nope' }] }, engine);
      } catch (e) {
        return e as Error & { code: string };
      }
    })();
    expect(err?.code).to.equal('E_UNKNOWN_CLASS');
    expect(err?.message).to.include('Nope').and.to.include('registered river classes: A, B');
    expect(err?.message).not.to.include('Pick').and.not.to.include('Done'); // names of other kinds would not work
  });

  it('rejects a fork name that names a river', () => {
    expect(() => Andes.fromJSON({ vastflow: 1, streams: [{ fork: 'A', branches: { x: [{ river: 'A' }] } }] }, engine))
      .to.throw()
      .with.property('code', 'E_UNKNOWN_CLASS');
  });

  it('exports the zod schema, and docs/blueprint.schema.json is generated from it', () => {
    expect(blueprintSchema.safeParse(every).success).to.equal(true);
    expect(fs.readFileSync(schemaFile, 'utf8'), 'run `npm run schema`').to.equal(schemaText());
  });
});
