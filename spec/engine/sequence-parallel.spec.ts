// Composition: streams run in drawing order; a ParallelRiver runs its branches at the same time on
// the flow's headwaters and ends once every branch has settled; any stream nests in any other.
import { expect } from 'chai';
import { Atlantic, Basin, Fork, Headwaters, ParallelRiver, River, type Engine, type RiverContext, type Stream } from '../../lib/index.js';
import { aborted, barrier, latch, RecordingAtlantic, runToEnd, sleep, STORE_KINDS, useEngines, within } from '../helpers/stores.js';

type Body = (hw: Headwaters, ctx: RiverContext) => unknown;

/** Every start and end of a Step, and of the Atlantic hooks, in order. */
let log: string[] = [];

/** A river that logs its start and end around `body`. */
class Step extends River<{ label: string }> {
  readonly body: Body;
  constructor(label: string, body: Body = () => {}) {
    super({ label });
    this.body = body;
  }
  get label(): string {
    return this.config!.label;
  }
  async flow(hw: Headwaters, ctx: RiverContext) {
    log.push(`start ${this.label}`);
    try {
      await this.body(hw, ctx);
    } finally {
      log.push(`end ${this.label}`);
    }
  }
}

class Pick extends Fork<{ branch: string }> {
  choose() {
    return this.config!.branch;
  }
}

/** A body that lets a few macrotasks pass, so an overlapping successor would show in the log. */
const busy = (): Promise<void> => sleep(3);

/** Whether `first` ended before `second` started, by the log. */
function before(first: string, second: string): boolean {
  const end = log.indexOf(`end ${first}`);
  const start = log.indexOf(`start ${second}`);
  return end !== -1 && start !== -1 && end < start;
}

describe('sequence and parallel composition', () => {
  const engines = useEngines(STORE_KINDS[0]!);
  let engine: Engine;
  beforeEach(async () => {
    log = [];
    engine = await engines.open();
  });

  const run = (streams: Stream[], hw?: Headwaters<any>, atlantic?: Atlantic) => runToEnd(engine, streams, hw, atlantic);

  describe('a sequence', () => {
    it('runs the streams in drawing order, each starting only after its predecessor ended', async () => {
      const { outcome } = await run([new Step('a', busy), new Step('b', busy), new Step('c', busy)]);
      expect(outcome.status).to.equal('success');
      expect(log).to.deep.equal(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    });

    it('waits for a slow river before it starts the next one', async () => {
      const { outcome } = await run([new Step('slow', () => sleep(20)), new Step('next')]);
      expect(outcome.status).to.equal('success');
      expect(log).to.deep.equal(['start slow', 'end slow', 'start next', 'end next']);
    });

    it('lets a river read what an earlier river put', async () => {
      let seen: unknown;
      await run([new Step('writer', (hw) => hw.put('vmId', 'vm-1')), new Step('reader', (hw) => (seen = hw.get('vmId')))]);
      expect(seen).to.equal('vm-1');
    });

    it('waits for a whole parallel river before the stream drawn after it', async () => {
      const pr = new ParallelRiver().append(new Step('p1', busy)).append(new Step('p2', () => sleep(10)));
      await run([pr, new Step('after')]);
      expect(before('p1', 'after')).to.equal(true);
      expect(before('p2', 'after')).to.equal(true);
    });
  });

  describe('a parallel river', () => {
    it('runs its branches at the same time (each waits for the other at a barrier)', async () => {
      const meet = barrier(2, 500);
      const pr = new ParallelRiver().append(new Step('left', () => meet.arrive())).append(new Step('right', () => meet.arrive()));
      const { outcome } = await run([pr]);
      expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
      expect(log.indexOf('start right')).to.be.below(log.indexOf('end left'));
    });

    it('runs three branches at the same time', async () => {
      const meet = barrier(3, 500);
      const pr = new ParallelRiver()
        .append(new Step('x', () => meet.arrive()))
        .append(new Step('y', () => meet.arrive()))
        .append(new Step('z', () => meet.arrive()));
      const { outcome } = await run([pr]);
      expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
    });

    it('runs the streams of one branch in sequence while another branch runs beside them', async () => {
      // the other branch waits until the second river of the long branch has started: it runs meanwhile
      const secondStarted = latch();
      const otherDone = latch();
      const pr = new ParallelRiver()
        .append(
          new Step('b1', busy),
          new Step('b2', async () => {
            secondStarted.release();
            await within(otherDone.promise, 500, 'the other branch');
          }),
          new Step('b3', busy),
        )
        .append(
          new Step('other', async () => {
            await within(secondStarted.promise, 500, 'b2 starting');
            otherDone.release();
          }),
        );
      const { outcome } = await run([pr]);
      expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
      const branch = log.filter((l) => / b\d$/.test(l));
      expect(branch).to.deep.equal(['start b1', 'end b1', 'start b2', 'end b2', 'start b3', 'end b3']);
      expect(log.indexOf('end other')).to.be.above(log.indexOf('start b2')).and.below(log.indexOf('end b2'));
    });

    it('records the parallel river and every river in its branches as success', async () => {
      const pr = new ParallelRiver().append(new Step('a'), new Step('b')).append(new Step('c'));
      const { id } = await run([pr]);
      const snap = await engine.get(id);
      expect(snap!.streams.map((s) => `${s.kind}:${s.state}`)).to.deep.equal(['parallel:success', 'river:success', 'river:success', 'river:success']);
    });

    describe('headwaters', () => {
      it('shares the flow headwaters between branches: a branch reads what a sibling put', async () => {
        const written = latch();
        let seen: unknown;
        const pr = new ParallelRiver()
          .append(
            new Step('writer', (hw) => {
              hw.put('shared', 'from writer');
              written.release();
            }),
          )
          .append(
            new Step('reader', async (hw) => {
              await within(written.promise, 500, 'the write');
              seen = hw.get('shared');
            }),
          );
        const { outcome } = await run([pr]);
        expect(seen).to.equal('from writer');
        expect(outcome.headwaters).to.include({ shared: 'from writer' });
      });

      it('keeps the value of the last writer of a key (the second branch writes last)', async () => {
        const firstWrote = latch();
        const pr = new ParallelRiver()
          .append(
            new Step('first', (hw) => {
              hw.put('k', 'first');
              firstWrote.release();
            }),
          )
          .append(
            new Step('second', async (hw) => {
              await within(firstWrote.promise, 500, 'the first write');
              hw.put('k', 'second');
            }),
          );
        const { outcome } = await run([pr]);
        expect(outcome.headwaters['k']).to.equal('second');
      });

      it('keeps the value of the last writer of a key (the first branch writes last)', async () => {
        const secondWrote = latch();
        const pr = new ParallelRiver()
          .append(
            new Step('first', async (hw) => {
              await within(secondWrote.promise, 500, 'the second write');
              hw.put('k', 'first');
            }),
          )
          .append(
            new Step('second', (hw) => {
              hw.put('k', 'second');
              secondWrote.release();
            }),
          );
        const { id, outcome } = await run([pr]);
        expect(outcome.headwaters['k']).to.equal('first');
        expect((await engine.get(id))!.headwaters['k']).to.equal('first');
      });

      it('keeps the keys each branch wrote', async () => {
        const pr = new ParallelRiver().append(new Step('vm', (hw) => hw.put('vmId', 'vm-1'))).append(new Step('vol', (hw) => hw.put('volId', 'vol-1')));
        const { outcome } = await run([pr, new Step('attach', (hw) => hw.put('attached', `${hw.getString('vmId')}+${hw.getString('volId')}`))]);
        expect(outcome.headwaters).to.deep.equal({ vmId: 'vm-1', volId: 'vol-1', attached: 'vm-1+vol-1' });
      });
    });

    describe('a failing branch', () => {
      it('aborts hw.signal for the sibling branches', async () => {
        let siblingSawAbort = false;
        const pr = new ParallelRiver()
          .append(
            new Step('failing', () => {
              throw new Error('boom');
            }),
          )
          .append(
            new Step('sibling', async (hw) => {
              await aborted(hw.signal, 500);
              siblingSawAbort = hw.signal.aborted;
            }),
          );
        const { outcome } = await run([pr]);
        expect(siblingSawAbort).to.equal(true);
        expect(outcome.status).to.equal('fail');
      });

      it('ends the parallel river only when every branch has settled: the slow sibling ends before Atlantic.fail runs', async () => {
        const atlantic = new RecordingAtlantic(log);
        const pr = new ParallelRiver()
          .append(
            new Step('failing', () => {
              throw new Error('boom');
            }),
          )
          .append(
            new Step('slow', async (hw) => {
              await aborted(hw.signal, 500);
              await sleep(20);
            }),
          );
        const { outcome } = await run([pr], undefined, atlantic);
        expect(outcome.status).to.equal('fail');
        expect(log.indexOf('end slow')).to.be.at.least(0);
        expect(log.indexOf('end slow')).to.be.below(log.indexOf('atlantic fail'));
        expect(log.filter((l) => l.startsWith('atlantic'))).to.deep.equal(['atlantic fail']);
      });

      it('reports the error of the branch that failed first', async () => {
        const atlantic = new RecordingAtlantic(log);
        class FirstToFail extends Step {}
        class SecondToFail extends Step {}
        const pr = new ParallelRiver()
          .append(
            new FirstToFail('first', () => {
              throw new Error('first failure');
            }),
          )
          .append(
            new SecondToFail('second', async (hw) => {
              await aborted(hw.signal, 500);
              throw new Error('second failure');
            }),
          );
        const { outcome } = await run([pr], undefined, atlantic);
        expect(outcome.status).to.equal('fail');
        expect(outcome.error).to.include({ code: 'E_RIVER_FAILED', river: 'FirstToFail' });
        expect(outcome.error!.message).to.contain('first failure');
        expect(atlantic.errors).to.have.length(1);
        expect(atlantic.errors[0]).to.include({ river: 'FirstToFail' });
      });

      it('skips the rest of the failed flow: later streams of a sibling branch and streams after the parallel river', async () => {
        const started = latch();
        const pr = new ParallelRiver()
          .append(
            new Step('failing', async () => {
              await within(started.promise, 500, 'the sibling starting');
              throw new Error('boom');
            }),
          )
          .append(
            new Step('running', async (hw) => {
              started.release();
              await aborted(hw.signal, 500);
            }),
            new Step('later in branch'),
          );
        const { id, outcome } = await run([pr, new Step('after parallel')]);
        expect(outcome.status).to.equal('fail');
        expect(log).to.not.include('start later in branch');
        expect(log).to.not.include('start after parallel');
        const states = (await engine.get(id))!.streams.map((s) => `${s.kind}:${s.state}`);
        expect(states).to.deep.equal(['parallel:fail', 'river:fail', 'river:success', 'river:skipped', 'river:skipped']);
      });
    });
  });

  describe('nesting', () => {
    it('runs a parallel river inside a parallel river inside a basin, all branches at once', async () => {
      const meet = barrier(3, 500);
      const inner = new ParallelRiver()
        .append(
          new Step('x', async (hw) => {
            await meet.arrive();
            hw.put('x', 1);
          }),
        )
        .append(
          new Step('y', async (hw) => {
            await meet.arrive();
            hw.put('y', 2);
          }),
        );
      const outer = new ParallelRiver().append(inner).append(
        new Step('z', async (hw) => {
          await meet.arrive();
          hw.put('z', 3);
        }),
      );
      const basin = new Basin('deep').drawStream(outer, new Step('sum', (hw) => hw.put('sum', hw.getNumber('x')! + hw.getNumber('y')! + hw.getNumber('z')!)));
      const { id, outcome } = await run([basin, new Step('after', (hw) => hw.put('seenSum', hw.get('sum') ?? null))]);
      expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
      expect(outcome.headwaters).to.deep.equal({ x: 1, y: 2, z: 3, sum: 6, seenSum: 6 });
      const snap = await engine.get(id);
      expect(snap!.streams.map((s) => `${s.kind}:${s.state}`)).to.deep.equal([
        'basin:success',
        'parallel:success',
        'parallel:success',
        'river:success',
        'river:success',
        'river:success',
        'river:success',
        'river:success',
      ]);
    });

    it('runs a fork inside a basin inside a parallel river', async () => {
      const fork = new Pick({ branch: 'b' }).branch('a', new Step('fork a')).branch('b', new Step('fork b', (hw) => hw.put('picked', 'b')));
      const pr = new ParallelRiver().append(new Basin().drawStream(new Step('in basin'), fork)).append(new Step('beside'));
      const { outcome } = await run([pr]);
      expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
      expect(outcome.headwaters).to.deep.equal({ picked: 'b' });
      expect(log).to.include('end fork b').and.to.include('end beside');
      expect(log).to.not.include('start fork a');
      expect(before('in basin', 'fork b')).to.equal(true);
    });

    it('runs a basin inside a parallel river inside a parallel river, merging into the flow', async () => {
      const deep = new Basin('inner').drawStream(new Step('in basin', (hw) => hw.put('deep', true)));
      const pr = new ParallelRiver().append(new ParallelRiver().append(deep).append(new Step('p'))).append(new Step('q'));
      const { outcome } = await run([pr, new Step('after')]);
      expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
      expect(outcome.headwaters).to.deep.equal({ deep: true });
    });

    it('fails the whole flow when a river three levels down fails, and skips what follows', async () => {
      const atlantic = new RecordingAtlantic(log);
      class DeepFailure extends Step {}
      const deep = new Basin().drawStream(
        new ParallelRiver().append(
          new ParallelRiver().append(
            new DeepFailure('deep', () => {
              throw new Error('deep boom');
            }),
          ),
        ),
      );
      const { outcome } = await run([deep, new Step('after')], undefined, atlantic);
      expect(outcome.status).to.equal('fail');
      expect(outcome.error).to.include({ river: 'DeepFailure' });
      expect(log).to.not.include('start after');
      expect(atlantic.errors.map((e) => e.river)).to.deep.equal(['DeepFailure']);
    });
  });
});
