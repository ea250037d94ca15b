// Basin: its streams run in sequence on an isolated copy of the headwaters, taken when it starts;
// on success the keys it set or deleted are applied to the flow's headwaters, on failure nothing.
import { expect } from 'chai';
import { Atlantic, Basin, Headwaters, ParallelRiver, River, type Engine, type RiverContext, type Stream } from '../../lib/index.js';
import { latch, RecordingAtlantic, runToEnd, STORE_KINDS, until, useEngines, within } from '../helpers/stores.js';

type Body = (hw: Headwaters, ctx: RiverContext) => unknown;

/** A river that runs `body`. */
class Step extends River<{ label: string }> {
  readonly body: Body;
  constructor(label: string, body: Body = () => {}) {
    super({ label });
    this.body = body;
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    await this.body(hw, ctx);
  }
}

class Failing extends River {
  async flow() {
    throw new Error('basin river failed');
  }
}

describe('basin', () => {
  const engines = useEngines(STORE_KINDS[0]!);
  let engine: Engine;
  beforeEach(async () => {
    engine = await engines.open();
  });

  const run = (streams: Stream[], hw?: Headwaters<any>, atlantic?: Atlantic) => runToEnd(engine, streams, hw, atlantic);

  describe('isolation', () => {
    it('gives its rivers the values the flow held when the basin started', async () => {
      let seen: unknown;
      await run([new Step('before', (hw) => hw.put('vmId', 'vm-1')), new Basin().drawStream(new Step('inside', (hw) => (seen = hw.get('vmId'))))]);
      expect(seen).to.equal('vm-1');
    });

    it('lets a later river of the basin read what an earlier one put', async () => {
      let seen: unknown;
      await run([new Basin().drawStream(new Step('w', (hw) => hw.put('k', 'v')), new Step('r', (hw) => (seen = hw.get('k'))))]);
      expect(seen).to.equal('v');
    });

    it('hides a write inside the basin from a concurrent parallel branch until the basin ends', async () => {
      const written = latch();
      const checked = latch();
      let siblingSaw: unknown = 'not read';
      const basin = new Basin().drawStream(
        new Step('writer', (hw) => {
          hw.put('inside', 'basin value');
          written.release();
        }),
        new Step('holder', () => within(checked.promise, 500, 'the sibling check')),
      );
      const sibling = new Step('sibling', async (hw) => {
        await within(written.promise, 500, 'the basin write');
        siblingSaw = hw.get('inside') ?? 'absent';
        checked.release();
      });
      let after: unknown;
      const { outcome } = await run([new ParallelRiver().append(basin).append(sibling), new Step('after', (hw) => (after = hw.get('inside')))]);
      expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
      expect(siblingSaw).to.equal('absent');
      expect(after).to.equal('basin value');
    });

    it('hides a write of a concurrent branch from the basin once the basin has started', async () => {
      const basinStarted = latch();
      const siblingWrote = latch();
      let basinSaw: unknown = 'not read';
      const basin = new Basin().drawStream(
        new Step('reader', async (hw) => {
          basinStarted.release();
          await within(siblingWrote.promise, 500, 'the sibling write');
          basinSaw = hw.get('outside') ?? 'absent';
        }),
      );
      const sibling = new Step('sibling', async (hw) => {
        await within(basinStarted.promise, 500, 'the basin start');
        hw.put('outside', 'sibling value');
        siblingWrote.release();
      });
      const { outcome } = await run([new ParallelRiver().append(basin).append(sibling)]);
      expect(basinSaw).to.equal('absent');
      expect(outcome.headwaters).to.include({ outside: 'sibling value' });
    });

    it("keeps the flow's requestId, transient values and signal inside the basin", async () => {
      const client = { connected: true };
      let inside: { requestId?: string; client?: unknown; aborted?: boolean } = {};
      const failed = latch();
      const basinRunning = latch();
      class Boom extends River {
        async flow() {
          await within(basinRunning.promise, 500, 'the basin river starting');
          failed.release();
          throw new Error('sibling failed');
        }
      }
      const basin = new Basin().drawStream(
        new Step('inside', async (hw) => {
          inside = { requestId: hw.requestId, client: hw.tmpGet('client') };
          basinRunning.release();
          await within(failed.promise, 500, 'the sibling failing');
          await within(new Promise<void>((r) => (hw.signal.aborted ? r() : hw.signal.addEventListener('abort', () => r()))), 500, 'the abort');
          inside.aborted = hw.signal.aborted;
        }),
      );
      const hw = new Headwaters('order-7').tmpPut('client', client);
      const { outcome } = await run([new ParallelRiver().append(basin).append(new Boom())], hw);
      expect(outcome.status).to.equal('fail');
      expect(inside.requestId).to.equal('order-7');
      expect(inside.client).to.equal(client);
      expect(inside.aborted, 'hw.signal inside the basin aborted by the failing sibling').to.equal(true);
    });

    it('shares the transient values a basin river puts with the rivers after the basin', async () => {
      const client = { connected: true };
      let after: unknown;
      const basin = new Basin().drawStream(new Step('opener', (hw) => void hw.tmpPut('client', client)));
      const { outcome } = await run([basin, new Step('user', (hw) => void (after = hw.tmpGet('client')))]);
      expect(outcome.status).to.equal('success');
      expect(after).to.equal(client);
    });

    it('hides a delete inside the basin from the flow until the basin ends', async () => {
      const deleted = latch();
      const checked = latch();
      let siblingSaw: unknown;
      const basin = new Basin().drawStream(
        new Step('deleter', async (hw) => {
          hw.del('doomed');
          deleted.release();
          await within(checked.promise, 500, 'the sibling check');
        }),
      );
      const sibling = new Step('sibling', async (hw) => {
        await within(deleted.promise, 500, 'the delete');
        siblingSaw = hw.has('doomed');
        checked.release();
      });
      const { outcome } = await run([new ParallelRiver().append(basin).append(sibling)], new Headwaters().put('doomed', 1));
      expect(siblingSaw).to.equal(true);
      expect(outcome.headwaters).to.not.have.property('doomed');
    });
  });

  describe('merge on success', () => {
    it('applies the keys the basin set and the keys it deleted to the flow headwaters', async () => {
      const hw = new Headwaters().put('changed', 'old').put('deleted', 'old').put('kept', 'old');
      const basin = new Basin().drawStream(
        new Step('edit', (h) => {
          h.put('changed', 'new');
          h.put('added', 'new');
          h.del('deleted');
        }),
      );
      let seenAfter: Record<string, unknown> = {};
      const { id, outcome } = await run([basin, new Step('after', (h) => (seenAfter = h.toJSON()))], hw);
      const expected = { changed: 'new', kept: 'old', added: 'new' };
      expect(seenAfter).to.deep.equal(expected);
      expect(outcome.headwaters).to.deep.equal(expected);
      expect((await engine.get(id))!.headwaters).to.deep.equal(expected);
    });

    it('applies a key set and then deleted inside the basin as deleted', async () => {
      const basin = new Basin().drawStream(
        new Step('temp', (h) => {
          h.put('k', 'new');
          h.del('k');
        }),
      );
      const { outcome } = await run([basin], new Headwaters().put('k', 'old'));
      expect(outcome.headwaters).to.deep.equal({});
    });

    it('does not overwrite keys the basin left alone that changed outside meanwhile', async () => {
      const basinStarted = latch();
      const outsideDone = latch();
      const basin = new Basin().drawStream(
        new Step('inside', async (h) => {
          basinStarted.release();
          h.put('inside', 'basin');
          await within(outsideDone.promise, 500, 'the outside writes');
        }),
      );
      const sibling = new Step('outside', async (h) => {
        await within(basinStarted.promise, 500, 'the basin start');
        h.put('outside', 'sibling');
        h.put('added outside', 'sibling');
        h.del('deleted outside');
        outsideDone.release();
      });
      const hw = new Headwaters().put('inside', 'initial').put('outside', 'initial').put('deleted outside', 'initial');
      const { outcome } = await run([new ParallelRiver().append(basin).append(sibling)], hw);
      expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
      expect(outcome.headwaters).to.deep.equal({ inside: 'basin', outside: 'sibling', 'added outside': 'sibling' });
    });

    it('overwrites, on its end, a key that it set and that a sibling changed meanwhile', async () => {
      const basinWrote = latch();
      const outsideDone = latch();
      const basin = new Basin().drawStream(
        new Step('inside', async (h) => {
          h.put('k', 'basin');
          basinWrote.release();
          await within(outsideDone.promise, 500, 'the outside write');
        }),
      );
      const sibling = new Step('outside', async (h) => {
        await within(basinWrote.promise, 500, 'the basin write');
        h.put('k', 'sibling');
        outsideDone.release();
      });
      const { outcome } = await run([new ParallelRiver().append(basin).append(sibling)]);
      expect(outcome.headwaters).to.deep.equal({ k: 'basin' });
    });

    it('merges parallel basins in the order they finish (the one that finishes last wins)', async () => {
      // the early basin finishes first; the late one waits, through engine.get, for its end
      let flowId = '';
      const late = new Basin('late').drawStream(
        new Step('late', async (h, ctx) => {
          flowId = ctx.flowId;
          h.put('k', 'late');
          await until(
            async () => (await engine.get(flowId))?.streams.find((s) => s.kind === 'basin' && s.color === 'early')?.state === 'success',
            1000,
            'the early basin ending',
          );
        }),
      );
      const early = new Basin('early').drawStream(new Step('early', (h) => h.put('k', 'early')));
      const { outcome } = await run([new ParallelRiver().append(late).append(early)]);
      expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
      expect(outcome.headwaters).to.deep.equal({ k: 'late' });
    });

    it('merges an inner basin into the outer basin, and the outer one into the flow', async () => {
      const seen: Record<string, unknown> = {};
      const inner = new Basin('inner').drawStream(new Step('inner', (h) => h.put('inner', 1)));
      const outer = new Basin('outer').drawStream(
        inner,
        new Step('outer reader', (h) => {
          seen['inOuter'] = h.get('inner');
          h.put('outer', 2);
        }),
      );
      const { outcome } = await run([outer]);
      expect(seen['inOuter']).to.equal(1);
      expect(outcome.headwaters).to.deep.equal({ inner: 1, outer: 2 });
    });
  });

  describe('failure', () => {
    it('merges nothing back and fails the flow when a river in the basin fails', async () => {
      const atlantic = new RecordingAtlantic();
      const basin = new Basin().drawStream(
        new Step('edit', (h) => {
          h.put('added', 'basin');
          h.put('changed', 'basin');
          h.del('deleted');
        }),
        new Failing(),
      );
      const hw = new Headwaters().put('changed', 'old').put('deleted', 'old');
      let ranAfter = false;
      const { id, outcome } = await run([basin, new Step('after', () => (ranAfter = true))], hw, atlantic);
      expect(outcome.status).to.equal('fail');
      expect(outcome.error).to.include({ code: 'E_RIVER_FAILED', river: 'Failing' });
      expect(outcome.headwaters).to.deep.equal({ changed: 'old', deleted: 'old' });
      expect((await engine.get(id))!.headwaters).to.deep.equal({ changed: 'old', deleted: 'old' });
      expect(ranAfter).to.equal(false);
      expect(atlantic.calls).to.deep.equal(['fail']);
      expect(atlantic.errors[0]).to.include({ river: 'Failing' });
    });

    it('gives Atlantic.fail the flow headwaters without the failed basin writes', async () => {
      let atFail: Record<string, unknown> | undefined;
      class Seeing extends Atlantic {
        fail(h: Headwaters) {
          atFail = h.toJSON();
        }
      }
      await run([new Basin().drawStream(new Step('w', (h) => h.put('x', 1)), new Failing())], new Headwaters().put('y', 2), new Seeing());
      expect(atFail).to.deep.equal({ y: 2 });
    });

    it('merges nothing of an inner basin that succeeded when the outer basin fails', async () => {
      const inner = new Basin('inner').drawStream(new Step('inner', (h) => h.put('inner', 1)));
      const outer = new Basin('outer').drawStream(inner, new Failing());
      const { outcome } = await run([outer]);
      expect(outcome.status).to.equal('fail');
      expect(outcome.headwaters).to.deep.equal({});
    });

    it('records the basin as failed and the streams after it as skipped', async () => {
      const { id } = await run([new Basin().drawStream(new Failing(), new Step('not run')), new Step('after')]);
      const states = (await engine.get(id))!.streams.map((s) => `${s.kind}:${s.state}`);
      expect(states).to.deep.equal(['basin:fail', 'river:fail', 'river:skipped', 'river:skipped']);
    });
  });

  describe('color', () => {
    it("gives its color to its rivers' ctx.color", async () => {
      const colors: string[] = [];
      const basin = new Basin('blue').drawStream(new Step('a', (_h, ctx) => colors.push(ctx.color)), new Step('b', (_h, ctx) => colors.push(ctx.color)));
      await run([basin]);
      expect(colors).to.deep.equal(['blue', 'blue']);
    });

    it('gives its color to the rivers of a parallel river inside it', async () => {
      const colors: string[] = [];
      const basin = new Basin('green').drawStream(new ParallelRiver().append(new Step('a', (_h, ctx) => colors.push(ctx.color))));
      await run([basin]);
      expect(colors).to.deep.equal(['green']);
    });

    it("keeps a river's own color inside a colored basin", async () => {
      let color: string | undefined;
      await run([new Basin('blue').drawStream(new Step('red', (_h, ctx) => (color = ctx.color)).withColor('red'))]);
      expect(color).to.equal('red');
    });

    it('shows the basin color on the basin and its rivers in the snapshot', async () => {
      const { id } = await run([new Basin('blue').drawStream(new Step('a')), new Step('outside')]);
      const streams = (await engine.get(id))!.streams;
      expect(streams.slice(0, 2).map((s) => `${s.kind}:${s.color}`)).to.deep.equal(['basin:blue', 'river:blue']);
      expect(streams[2]!.color).to.not.equal('blue');
    });
  });
});
