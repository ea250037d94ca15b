// Fork: choose() names one branch at run time; that branch runs, the others are skipped, and the
// choice is recorded. An unknown name fails the flow with E_NO_BRANCH.
import { expect } from 'chai';
import { Andes, Atlantic, Fork, Headwaters, ParallelRiver, River, type Engine, type Stream, type StreamSnapshot } from '../../lib/index.js';
import { RecordingAtlantic, runToEnd, sleep, STORE_KINDS, useEngines } from '../helpers/stores.js';

/** Which rivers ran, by label. */
let ran: string[] = [];

class Step extends River<{ label: string }> {
  async flow(hw: Headwaters) {
    ran.push(this.config!.label);
    hw.put(`ran ${this.config!.label}`, true);
  }
}
class Big extends Step {}
class Small extends Step {}
class Huge extends Step {}

/** Chooses the branch named in its config, counting its calls. */
class ConfigFork extends Fork<{ branch: string }> {
  static calls = 0;
  choose() {
    ConfigFork.calls++;
    return this.config!.branch;
  }
}

class SizeFork extends Fork {
  choose(hw: Headwaters) {
    return hw.getNumber('size')! > 100 ? 'big' : 'small';
  }
}

class AsyncFork extends Fork {
  async choose(hw: Headwaters) {
    await sleep(5);
    return hw.getString('tier');
  }
}

/** A river of a fork branch that fails while `failing` is set: for the redrive test. */
class Flaky extends River {
  static failing = true;
  static calls = 0;
  async flow() {
    Flaky.calls++;
    if (Flaky.failing) throw new Error('flaky');
  }
}

const brief = (s: StreamSnapshot) => `${s.kind}:${s.name}:${s.state}`;

describe('fork', () => {
  const engines = useEngines(STORE_KINDS[0]!);
  let engine: Engine;
  beforeEach(async () => {
    ran = [];
    ConfigFork.calls = 0;
    Flaky.failing = true;
    Flaky.calls = 0;
    engine = await engines.open();
  });

  const run = (streams: Stream[], hw?: Headwaters<any>, atlantic?: Atlantic) => runToEnd(engine, streams, hw, atlantic);

  const sized = () => new SizeFork().branch('big', new Big({ label: 'big' })).branch('small', new Small({ label: 'small' }));

  it('runs the branch choose() names and not the others', async () => {
    const { outcome } = await run([sized()], new Headwaters().put('size', 500));
    expect(outcome.status).to.equal('success');
    expect(ran).to.deep.equal(['big']);
  });

  it('chooses on the headwaters as they are when the fork is reached', async () => {
    class SetSize extends River {
      async flow(hw: Headwaters) {
        hw.put('size', 5);
      }
    }
    const { outcome } = await run([new SetSize(), sized()], new Headwaters().put('size', 500));
    expect(outcome.status).to.equal('success');
    expect(ran).to.deep.equal(['small']);
  });

  it("marks the branches not chosen as 'skipped' in the snapshot, and the chosen one as success", async () => {
    const fork = new ConfigFork({ branch: 'small' })
      .branch('big', new Big({ label: 'big' }))
      .branch('small', new Small({ label: 'small' }))
      .branch('huge', new Huge({ label: 'huge' }));
    const { id } = await run([fork]);
    const snap = await engine.get(id);
    expect(snap!.streams.map(brief)).to.deep.equal(['fork:ConfigFork:success', 'river:Big:skipped', 'river:Small:success', 'river:Huge:skipped']);
  });

  it('skips every stream of a branch not chosen, also nested ones', async () => {
    const fork = new ConfigFork({ branch: 'a' })
      .branch('a', new Step({ label: 'a' }))
      .branch('b', new Big({ label: 'b1' }), new ParallelRiver().append(new Small({ label: 'b2' })).append(new Huge({ label: 'b3' })));
    const { id } = await run([fork]);
    const snap = await engine.get(id);
    expect(ran).to.deep.equal(['a']);
    expect(snap!.streams.map(brief)).to.deep.equal([
      'fork:ConfigFork:success',
      'river:Step:success',
      'river:Big:skipped',
      'parallel:ParallelRiver:skipped',
      'river:Small:skipped',
      'river:Huge:skipped',
    ]);
  });

  it("records the choice on the fork's stream in the snapshot", async () => {
    const { id } = await run([sized()], new Headwaters().put('size', 1));
    const fork = (await engine.get(id))!.streams.find((s) => s.kind === 'fork');
    expect(fork).to.include({ name: 'SizeFork', choice: 'small' });
  });

  it('runs the streams of the chosen branch in sequence', async () => {
    const fork = new ConfigFork({ branch: 'multi' })
      .branch('multi', new Step({ label: 'one' }), new Step({ label: 'two' }), new Step({ label: 'three' }))
      .branch('other', new Step({ label: 'other' }));
    await run([fork]);
    expect(ran).to.deep.equal(['one', 'two', 'three']);
  });

  it('calls choose() once per flow', async () => {
    await run([new ConfigFork({ branch: 'a' }).branch('a', new Step({ label: 'a' })).branch('b', new Step({ label: 'b' }))]);
    expect(ConfigFork.calls).to.equal(1);
  });

  it('waits for an async choose()', async () => {
    const fork = new AsyncFork().branch('gold', new Big({ label: 'gold' })).branch('silver', new Small({ label: 'silver' }));
    const { id, outcome } = await run([fork], new Headwaters().put('tier', 'silver'));
    expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
    expect(ran).to.deep.equal(['silver']);
    expect((await engine.get(id))!.streams.find((s) => s.kind === 'fork')).to.include({ choice: 'silver' });
  });

  it('runs the streams after the fork once the chosen branch ended', async () => {
    const fork = new ConfigFork({ branch: 'a' }).branch('a', new Step({ label: 'a' })).branch('b', new Step({ label: 'b' }));
    await run([new Step({ label: 'before' }), fork, new Step({ label: 'after' })]);
    expect(ran).to.deep.equal(['before', 'a', 'after']);
  });

  it('runs a fork inside a parallel branch', async () => {
    const fork = new ConfigFork({ branch: 'b' }).branch('a', new Step({ label: 'a' })).branch('b', new Step({ label: 'b' }));
    const { outcome } = await run([new ParallelRiver().append(fork).append(new Step({ label: 'beside' }))]);
    expect(outcome.status).to.equal('success');
    expect([...ran].sort()).to.deep.equal(['b', 'beside']);
  });

  it('reports the right branch states when branch names look like numbers', async () => {
    // a branch drawn first under the name '2', a second one under '1'
    const fork = new ConfigFork({ branch: '2' }).branch('2', new Big({ label: 'two' })).branch('1', new Small({ label: 'one' }));
    const { id, outcome } = await run([fork]);
    expect(outcome.status).to.equal('success');
    expect(ran).to.deep.equal(['two']);
    const streams = (await engine.get(id))!.streams;
    expect(streams.find((s) => s.name === 'Big')?.state, 'the chosen branch').to.equal('success');
    expect(streams.find((s) => s.name === 'Small')?.state, 'the branch not chosen').to.equal('skipped');
  });

  describe('an unknown branch name', () => {
    it('fails the flow with E_NO_BRANCH and runs no branch', async () => {
      const atlantic = new RecordingAtlantic();
      const fork = new ConfigFork({ branch: 'medium' }).branch('big', new Big({ label: 'big' })).branch('small', new Small({ label: 'small' }));
      const { id, outcome } = await run([fork, new Step({ label: 'after' })], undefined, atlantic);
      expect(outcome.status).to.equal('fail');
      expect(outcome.error).to.have.property('code', 'E_NO_BRANCH');
      expect(ran).to.deep.equal([]);
      expect(atlantic.calls).to.deep.equal(['fail']);
      expect(atlantic.errors[0]).to.have.property('code', 'E_NO_BRANCH');
      const snap = await engine.get(id);
      expect(snap!.status).to.equal('fail');
      expect(snap!.error).to.have.property('code', 'E_NO_BRANCH');
      expect(snap!.streams.find((s) => s.kind === 'fork')!.state).to.equal('fail');
      // never started: skipped, the fork's branches as the river after it
      for (const river of snap!.streams.filter((s) => s.kind === 'river')) expect(river.state, river.name).to.equal('skipped');
    });

    it('names the unknown choice in the error message', async () => {
      const fork = new ConfigFork({ branch: 'medium' }).branch('big', new Big({ label: 'big' }));
      const { outcome } = await run([fork]);
      expect(outcome.error!.message).to.contain('medium');
    });

    it('fails with E_NO_BRANCH when an async choose() resolves to an unknown name', async () => {
      const fork = new AsyncFork().branch('gold', new Big({ label: 'gold' }));
      const { outcome } = await run([fork], new Headwaters().put('tier', 'bronze'));
      expect(outcome.status).to.equal('fail');
      expect(outcome.error).to.have.property('code', 'E_NO_BRANCH');
    });
  });

  it('fails the flow and runs no branch when choose() throws', async () => {
    class Broken extends Fork {
      choose(): string {
        throw new Error('cannot decide');
      }
    }
    const { id, outcome } = await run([new Broken().branch('a', new Step({ label: 'a' })), new Step({ label: 'after' })]);
    expect(outcome.status).to.equal('fail');
    expect(outcome.error!.message).to.contain('cannot decide');
    expect(ran).to.deep.equal([]);
    expect((await engine.get(id))!.streams.map((s) => `${s.kind} ${s.state}`)).to.deep.equal(['fork fail', 'river skipped', 'river skipped']);
  });

  it('does not choose again when a flow that failed in the chosen branch is redriven', async () => {
    const fork = new ConfigFork({ branch: 'flaky' }).branch('flaky', new Flaky()).branch('other', new Step({ label: 'other' }));
    const flow = await new Andes(engine).drawStream(fork).start();
    expect((await flow.result()).status).to.equal('fail');
    Flaky.failing = false;
    const again = await engine.redrive(flow.id);
    const outcome = await again.result();
    expect(outcome.status, JSON.stringify(outcome.error)).to.equal('success');
    expect(ConfigFork.calls).to.equal(1);
    expect(Flaky.calls).to.equal(2);
    expect(ran).to.deep.equal([]);
    const snap = await engine.get(flow.id);
    expect(snap!.streams.map(brief)).to.deep.equal(['fork:ConfigFork:success', 'river:Flaky:success', 'river:Step:skipped']);
    expect(snap!.streams[0]).to.include({ choice: 'flaky' });
  });
});
