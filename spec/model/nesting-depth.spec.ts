// Deep nesting is rejected with a contract code past documented limits (streams 64 deep, JSON
// values 256 levels deep), never with a RangeError from a recursive walk, and works up to them.
import { expect } from 'chai';
import { Andes, Basin, Fork, Headwaters, ParallelRiver, River, type BlueprintStream, type Json, type RiverAttr } from '../../lib/index.js';
import { forEachStore, runToEnd, startFlow, rejects, STORE_KINDS, thrown, useEngines } from '../helpers/stores.js';

class Leaf extends River<Json> {
  static riverName = 'Leaf';
  update(_attr: RiverAttr): void {}
  flow(hw: Headwaters): void {
    hw.put('ran', true);
  }
}

class Pick extends Fork {
  choose(): string {
    return 'a';
  }
}

/** `{ a: { a: ... 1 } }`, `levels` objects deep. */
function deepObject(levels: number): Json {
  let v: Json = 1;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

/** A blueprint stream: basins nested `depth` deep (the river inside at depth + 1). */
function deepBasins(depth: number, config?: Json): BlueprintStream {
  let s: BlueprintStream = config === undefined ? { river: 'Leaf' } : { river: 'Leaf', config };
  for (let i = 0; i < depth; i++) s = { basin: { streams: [s] } };
  return s;
}

/** A drawing of basins nested `depth` deep around a Leaf. */
function drawnBasins(depth: number): Basin | Leaf {
  let s: Basin | Leaf = new Leaf();
  for (let i = 0; i < depth; i++) s = new Basin().drawStream(s);
  return s;
}

forEachStore((kind) => {
  describe('nesting depth', () => {
    const engines = useEngines(kind);

    it('rejects Andes.fromJSON of basins nested 1,000 deep with E_BLUEPRINT naming the limit and path, not a RangeError', async () => {
      const engine = await engines.open({ classes: [Leaf] });
      const err = thrown(() => Andes.fromJSON({ vastflow: 1, streams: [deepBasins(1000)] }, engine));
      expect(err.code).to.equal('E_BLUEPRINT');
      expect(err.message)
        .to.contain('streams nested more than 64 deep')
        .and.to.match(/at streams\.0(\.basin\.streams\.0)+:/);
      // as text (written by hand: JSON.stringify itself overflows on this), in a parallel branch
      const n = 5000;
      const text = `{"vastflow":1,"streams":[{"parallel":[[${'{"basin":{"streams":['.repeat(n)}{"river":"Leaf"}${']}}'.repeat(n)}]]}]}`;
      const fromText = thrown(() => Andes.fromJSON(text, engine));
      expect(fromText.code).to.equal('E_BLUEPRINT');
      expect(fromText.message).to.contain('at streams.0.parallel.0.0.basin.streams.0');
    });

    it('runs a blueprint nested 64 deep with a 256-level config at the bottom', async () => {
      const engine = await engines.open({ classes: [Leaf] });
      // 63 basins: the river inside is the 64th stream level
      const run = await Andes.fromJSON({ vastflow: 1, streams: [deepBasins(63, deepObject(256))] }, engine).start();
      expect((await run.result()).status).to.equal('success');
      expect(thrown(() => Andes.fromJSON({ vastflow: 1, streams: [deepBasins(64)] }, engine)).code).to.equal('E_BLUEPRINT');
    });

    it('rejects a river config 2,000 deep in a blueprint with E_BLUEPRINT naming its path', async () => {
      const engine = await engines.open({ classes: [Leaf] });
      const err = thrown(() => Andes.fromJSON({ vastflow: 1, streams: [{ river: 'Leaf', config: deepObject(2000) }] }, engine));
      expect(err.code).to.equal('E_BLUEPRINT');
      expect(err.message).to.contain('at streams.0.config.a.a').and.to.contain('nested more than 256 levels deep');
      for (const bp of [
        { vastflow: 1, streams: [{ river: 'Leaf' }], headwaters: { order: deepObject(257) } },
        { vastflow: 1, streams: [{ river: 'Leaf' }], reqInfo: [deepObject(300)] },
      ])
        expect(thrown(() => Andes.fromJSON(bp, engine)).code).to.equal('E_BLUEPRINT');
    });

    it('rejects values nested past 256 levels with E_NOT_SERIALIZABLE naming the key, for hw.put, configs and reqInfo', () => {
      const hw = new Headwaters();
      const put = thrown(() => hw.put('order', deepObject(2000)));
      expect(put.code).to.equal('E_NOT_SERIALIZABLE');
      expect(put.message).to.contain('headwaters key "order" at a.a').and.to.contain('256 levels');
      expect(hw.has('order')).to.equal(false);
      expect(thrown(() => new Leaf(deepObject(2000))).code).to.equal('E_NOT_SERIALIZABLE');
      const info = thrown(() => (hw.reqInfo = deepObject(257)));
      expect(info.code).to.equal('E_NOT_SERIALIZABLE');
      expect(info.message).to.contain('reqInfo');
      hw.put('deep', deepObject(256)); // at the limit: fine
      expect(JSON.stringify(hw.get('deep'))).to.have.length(JSON.stringify(deepObject(256)).length);
    });

    it('rejects in well under a second a value built in code whose shared sub-objects make it exponentially large, naming the key', () => {
      let dag: Json = { leaf: 1 };
      for (let i = 0; i < 40; i++) dag = { x: dag, y: dag }; // 2^40 objects once written out
      const hw = new Headwaters();
      const t0 = performance.now();
      const err = thrown(() => hw.put('dag', dag));
      expect(performance.now() - t0, 'ms to refuse it').to.be.below(3000);
      expect(err.code).to.equal('E_NOT_SERIALIZABLE');
      expect(err.message).to.match(/^headwaters key "dag" at x\.[xy.]+ is not JSON: more than 1000000 objects and arrays/);
      expect(hw.has('dag')).to.equal(false);
      let shared: Json = { leaf: 1 };
      for (let i = 0; i < 10; i++) shared = { x: shared, y: shared }; // 2,047 objects: fine, written out in full
      expect(JSON.stringify(hw.put('shared', shared).get('shared'))).to.equal(JSON.stringify(shared));
    });

    it('rejects at start() a drawing that nests streams more than 64 deep with E_BLUEPRINT, and runs one 64 deep', async () => {
      const engine = await engines.open();
      const err = await rejects(startFlow(engine, [drawnBasins(1000)]));
      expect(err.code).to.equal('E_BLUEPRINT');
      expect(err.message).to.contain('more than 64 deep');
      expect(await engine.list()).to.have.length(0);
      const { outcome } = await runToEnd(engine, [drawnBasins(63)]);
      expect(outcome.status).to.equal('success');
      expect(outcome.headwaters).to.deep.equal({ ran: true });
    });

    it('refuses toJSON() and toMermaid() of a drawing start() refuses: too deep (E_BLUEPRINT), a stream drawn into itself (E_DUPLICATE_STREAM)', async () => {
      const engine = await engines.open();
      for (const depth of [65, 5000]) {
        const andes = new Andes(engine).drawStream(drawnBasins(depth));
        for (const f of [() => andes.toJSON(), () => andes.toMermaid()]) {
          const err = thrown(f);
          expect(err.code, `${depth} deep`).to.equal('E_BLUEPRINT');
          expect(err.message).to.contain('more than 64 deep');
        }
      }
      // what toJSON() gives, fromJSON() takes: 64 deep is the limit of both
      const deepest = new Andes(engine).drawStream(drawnBasins(63)).toJSON();
      expect(Andes.fromJSON(deepest, engine).toJSON()).to.deep.equal(deepest);

      const self = new Basin('self').drawStream(new Leaf());
      self.drawStream(self);
      const loop = new ParallelRiver().append(new Leaf());
      loop.append(loop);
      for (const s of [self, loop]) {
        const andes = new Andes(engine).drawStream(s);
        for (const f of [() => andes.toJSON(), () => andes.toMermaid()]) {
          const err = thrown(f);
          expect(err.code).to.equal('E_DUPLICATE_STREAM');
          expect(err.message).to.match(/^a (basin|parallel river) is drawn more than once \(again at 0\.1(\.0)?\); draw a new instance$/);
        }
        expect((await rejects(andes.start())).code).to.equal('E_DUPLICATE_STREAM');
      }
    });
  });
});

describe('wide drawings', () => {
  const engines = useEngines(STORE_KINDS[0]!);
  // past about 100,000 items a spread (push(...streams), f(...streams)) overflows the stack
  const N = 150_000;
  const wide = (): BlueprintStream[] => Array.from({ length: N }, () => ({ river: 'Leaf' }));

  it(`reads blueprints of ${N} streams in a row, at the top, in a parallel branch, a basin and a fork branch`, async () => {
    const engine = await engines.open({ classes: [Leaf, Pick] });
    const streams: BlueprintStream[][] = [wide(), [{ parallel: [wide()] }], [{ basin: { streams: wide() } }], [{ fork: 'Pick', branches: { a: wide() } }]];
    const counts = streams.map((s) => {
      const bp = Andes.fromJSON({ vastflow: 1, streams: s }, engine).toJSON();
      const top = bp.streams[0]!;
      if ('parallel' in top) return top.parallel[0]!.length;
      if ('basin' in top) return top.basin.streams.length;
      if ('fork' in top) return top.branches['a']!.length;
      return bp.streams.length;
    });
    expect(counts).to.deep.equal([N, N, N, N]);
  });
});
