// `__proto__` keys (JSON.parse makes them own keys) would set a copy's prototype instead of a
// property: a value would lose the key and gain inherited ones. They are rejected by name.
import { expect } from 'chai';
import { Andes, Dam, Fork, Headwaters, River, type Json, type RiverAttr } from '../../lib/index.js';
import { forEachStore, runToEnd, thrown, useEngines } from '../helpers/stores.js';

class Reads extends River<Json> {
  static riverName = 'Reads';
  update(_attr: RiverAttr): void {}
  flow(hw: Headwaters): void {
    hw.put('seen', Object.getPrototypeOf(hw.get('order')) === Object.prototype);
  }
}

forEachStore((kind) => {
  describe('__proto__ keys', () => {
    const engines = useEngines(kind);

    it('rejects hw.put of a value with a __proto__ key with E_NOT_SERIALIZABLE naming the path, storing nothing', () => {
      const hw = new Headwaters();
      const err = thrown(() => hw.put('order', JSON.parse('{"id":1,"__proto__":{"admin":true}}')));
      expect(err.code).to.equal('E_NOT_SERIALIZABLE');
      expect(err.message).to.contain('headwaters key "order" at __proto__');
      expect(hw.has('order')).to.equal(false);
      const nested = thrown(() => hw.put('order', JSON.parse('{"items":[{"sku":"a","__proto__":{"price":0}}]}')));
      expect(nested.code).to.equal('E_NOT_SERIALIZABLE');
      expect(nested.message).to.contain('at items[0].__proto__');
    });

    it('rejects a fork branch named __proto__ with E_INVALID_ARGUMENT, which no blueprint could carry', () => {
      class Picks extends Fork {
        choose(): string {
          return '__proto__';
        }
      }
      const fork = new Picks();
      const err = thrown(() => fork.branch('__proto__', new Reads()));
      expect(err.code).to.equal('E_INVALID_ARGUMENT');
      expect(err.message).to.contain('"__proto__"');
      expect(fork.branch('proto', new Reads()).branches.size).to.equal(1);
    });

    it('rejects the key __proto__ itself in hw.put with E_INVALID_ARGUMENT naming it', () => {
      const hw = new Headwaters();
      const err = thrown(() => hw.put('__proto__' as never, { admin: true } as never));
      expect(err.code).to.equal('E_INVALID_ARGUMENT');
      expect(err.message).to.contain('"__proto__"');
      expect(hw.keys()).to.deep.equal([]);
      expect(Object.getPrototypeOf(hw.toJSON())).to.equal(Object.prototype);
    });

    it('rejects a Dam whose payload key would be __proto__ (its message name, with no key given), in code and in a blueprint', async () => {
      const engine = await engines.open();
      const err = thrown(() => new Dam('__proto__'));
      expect(err.code).to.equal('E_INVALID_ARGUMENT');
      expect(err.message).to.contain('"__proto__"');
      expect(new Dam('__proto__', { key: 'decision' }).key).to.equal('decision');
      const bp = thrown(() => Andes.fromJSON({ vastflow: 1, streams: [{ dam: '__proto__' }] }, engine));
      expect(bp.code).to.equal('E_BLUEPRINT');
    });

    it('rejects a __proto__ key in reqInfo and in a river config with E_NOT_SERIALIZABLE', () => {
      const hw = new Headwaters();
      const info = thrown(() => (hw.reqInfo = JSON.parse('{"user":"u1","__proto__":{"role":"root"}}')));
      expect(info.code).to.equal('E_NOT_SERIALIZABLE');
      expect(info.message).to.contain('reqInfo at __proto__');
      expect(thrown(() => new Reads(JSON.parse('{"__proto__":{"x":1}}'))).code).to.equal('E_NOT_SERIALIZABLE');
    });

    it('rejects a __proto__ key anywhere in a blueprint with E_BLUEPRINT naming the path', async () => {
      const engine = await engines.open({ classes: [Reads] });
      const cases: Array<[string, string]> = [
        ['{"vastflow":1,"streams":[{"river":"Reads"}],"headwaters":{"order":{"id":1,"__proto__":{"admin":true}}}}', 'headwaters.order.__proto__'],
        ['{"vastflow":1,"streams":[{"river":"Reads"}],"headwaters":{"__proto__":{"admin":true}}}', 'headwaters.__proto__'],
        ['{"vastflow":1,"streams":[{"river":"Reads"}],"reqInfo":{"__proto__":{"role":"root"}}}', 'reqInfo.__proto__'],
        ['{"vastflow":1,"streams":[{"river":"Reads","config":[{"__proto__":{}}]}]}', 'streams.0.config.0.__proto__'],
        ['{"vastflow":1,"streams":[{"river":"Reads","__proto__":{"color":"x"}}]}', 'streams.0.__proto__'],
        ['{"vastflow":1,"__proto__":{"atlantic":"X"},"streams":[{"river":"Reads"}]}', '__proto__'],
      ];
      for (const [text, path] of cases) {
        for (const input of [text, JSON.parse(text) as unknown]) {
          const err = thrown(() => Andes.fromJSON(input, engine));
          expect(err.code, path).to.equal('E_BLUEPRINT');
          expect(err.message).to.contain(`at ${path}:`).and.to.contain('__proto__');
        }
      }
    });

    it('reads back values with plain prototypes, also after the store', async () => {
      const engine = await engines.open();
      const hw = new Headwaters().put('order', JSON.parse('{"id":1,"constructor":{"x":1}}'));
      const { id, outcome } = await runToEnd(engine, [new Reads()], hw);
      expect(outcome.status).to.equal('success');
      expect(outcome.headwaters['seen']).to.equal(true);
      const order = (await engine.get(id))?.headwaters['order'] as Record<string, unknown>;
      expect(Object.getPrototypeOf(order)).to.equal(Object.prototype);
      expect(order).to.deep.equal({ id: 1, constructor: { x: 1 } });
      expect(Object.keys(order)).to.deep.equal(['id', 'constructor']);
    });
  });
});
