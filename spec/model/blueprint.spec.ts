import { expect } from 'chai';
import fs from 'node:fs';
import { pino } from 'pino';
import { Andes, Atlantic, Basin, blueprintSchema, Engine, Fork, Headwaters, ParallelRiver, River, type Blueprint } from '../../lib/index.js';
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
  ];
  for (const [what, input, where] of bad) {
    it(`rejects ${what} with E_BLUEPRINT and the path of the problem`, () => {
      expect(() => Andes.fromJSON(input, engine))
        .to.throw(where)
        .with.property('code', 'E_BLUEPRINT');
    });
  }

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
