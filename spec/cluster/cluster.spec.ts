// Many engines on one PostgreSQL schema, as docs/architecture.md and the API's "PostgreSQL and
// many engines" promise: real engine processes (spec/cluster/program.ts) that the tests SIGKILL,
// SIGSTOP and close, next to engines in this process. Each test has its own schema and journal.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Andes, Engine, type FlowOutcome, type FlowRun, type FlowSnapshot } from '../../lib/index.js';
import { silent } from '../helpers/stores.js';
import pg from 'pg';
import { countBy, HEARTBEAT_MS, LEASE_MS, only, opened, PG_URL, useCluster, type EngineProcess } from './harness.js';
import { draw, settings, type Entry } from './rivers.js';
import { describePg } from '../helpers/postgres.js';

/**
 * The lease of the tests that do not measure takeovers: long enough that a heavily loaded machine
 * (a heartbeat that comes hundreds of ms late) does not hand flows to another engine mid-run.
 */
const STEADY = '3s';

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** True when the process is stopped (state T in /proc/<pid>/stat). */
const processStopped = (pid: number): boolean => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
};

/** The cancels in the flow's inbox, not yet carried out: read from the commands table itself. */
async function pendingCancels(schema: string, flowId: string): Promise<number> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".commands WHERE flow_id = $1 AND body->>'kind' = 'cancel'`, [
      flowId,
    ]);
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

describePg('many engines on one PostgreSQL schema (real processes)', function () {
  this.timeout(40_000);
  const cluster = useCluster();

  /**
   * Continues the stopped engine process `a`, waits until `b` sees a heartbeat of it and a few
   * heartbeats more, and asserts that `a` made no call of any river or hook after it woke.
   */
  async function wakesIdle(a: EngineProcess, b: Engine): Promise<void> {
    const mark = cluster.note(`continued ${a.id}`);
    a.child.kill('SIGCONT');
    await cluster.until(`a heartbeat of ${a.id} after it woke`, async () => {
      const w = (await b.workers()).find((x) => x.id === a.id);
      return w !== undefined && w.heartbeatAt > Date.now() - HEARTBEAT_MS;
    });
    await new Promise((r) => setTimeout(r, 4 * HEARTBEAT_MS));
    const late = cluster.entries().filter((e) => e.engine === a.id && e.index > mark);
    expect(late, `calls ${a.id} made after it woke (${cluster.lapses()})`).to.deep.equal([]);
  }

  /** Every requestId of `rids` appears exactly `times` times in the entries. */
  function each(list: Entry[], rids: string[], times: number, what: string): void {
    const counts = countBy(list);
    for (const rid of rids) expect(counts.get(rid) ?? 0, `${what} of ${rid} (${cluster.lapses()})`).to.equal(times);
  }

  it('a client engine starts 60 flows; two engine processes run them, each river exactly once, both taking some', async () => {
    const a = cluster.node('A', { concurrency: 10, leaseTime: STEADY });
    const c = cluster.node('C', { concurrency: 10, leaseTime: STEADY });
    await Promise.all([opened(cluster, a), opened(cluster, c)]);
    const client = await cluster.open('P', { concurrency: 0, worker: { leaseTime: STEADY } });
    const rids = ids('many', 60);
    const runs: FlowRun[] = [];
    for (const rid of rids) runs.push(await draw(new Andes(client), 'three', rid, { ms: 10 }).start());
    const outcomes = await cluster.within('every outcome', Promise.all(runs.map((r) => r.result())));
    expect(outcomes.map((o) => o.status)).to.deep.equal(rids.map(() => 'success'));

    const all = cluster.entries();
    for (const river of ['a', 'b', 'c']) each(only(all, river, 'flow'), rids, 1, `calls of ${river}`);
    each(only(all, 'atlantic', 'success'), rids, 1, 'Atlantic.success');
    const byEngine = countBy(only(all, 'a', 'flow').map((e) => ({ ...e, requestId: e.engine })));
    expect([...byEngine.keys()].sort(), 'engines that ran flows').to.deep.equal(['A', 'C']);
    expect(byEngine.get('A'), 'flows A ran').to.be.at.least(5);
    expect(byEngine.get('C'), 'flows C ran').to.be.at.least(5);
    // the client ran none, and each flow ran in one engine only
    for (const o of outcomes) {
      const engines = new Set(all.filter((e) => e.requestId === o.requestId).map((e) => e.engine));
      expect(engines.size, `engines of ${o.requestId}`).to.equal(1);
      expect(o.headwaters['a']).to.match(/^a-[AC]$/);
    }
  });

  it('three engine processes share 150 flows of mixed shapes; one SIGKILLed mid-run: every flow ends once, only its rivers run again', async () => {
    const lease = '1s';
    const nodes = ['A', 'B', 'C'].map((id) => cluster.node(id, { concurrency: 20, leaseTime: lease }));
    await Promise.all(nodes.map((n) => opened(cluster, n)));
    const client = await cluster.open('P', { concurrency: 0, worker: { leaseTime: STEADY } });
    const rids = ids('mixed', 150);
    const runs: FlowRun[] = [];
    for (const rid of rids) runs.push(await draw(new Andes(client), 'mixed', rid, { ms: 20 }).start());
    await cluster.until('a third of the flows ended', () => only(cluster.entries(), 'atlantic', 'success').length >= 50, 20_000);
    const killed = nodes[1]!;
    killed.child.kill('SIGKILL');
    await killed.exited;
    const mark = cluster.note('killed B');
    const outcomes = await cluster.within('every outcome', Promise.all(runs.map((r) => r.result())), 30_000);
    expect(outcomes.map((o) => o.status)).to.deep.equal(rids.map(() => 'success'));

    const all = cluster.entries();
    const engines = new Set(all.map((e) => e.engine));
    expect([...engines].filter((e) => e !== 'P').sort(), 'engines that ran flows').to.deep.equal(['A', 'B', 'C']);
    // every river and hook ran to its end once, or twice when the first run was in the killed engine
    // (at-least-once: it ended there before its record landed); nothing ran after the kill in B
    const runsOf = new Map<string, Entry[]>();
    for (const e of all) {
      if (e.phase !== 'done' && e.phase !== 'success') continue;
      const key = `${e.requestId} ${e.river}`;
      runsOf.set(key, [...(runsOf.get(key) ?? []), e]);
    }
    for (const [key, list] of runsOf) {
      expect(list.length, `runs of ${key} (${cluster.lapses()})`).to.be.within(1, 2);
      if (list.length === 2) expect(list[0]!.engine, `the first run of ${key}, run again`).to.equal('B');
    }
    for (const rid of rids) expect(runsOf.has(`${rid} atlantic`), `Atlantic.success of ${rid}`).to.equal(true);
    expect(
      all.filter((e) => e.engine === 'B' && e.index > mark),
      'B after its death',
    ).to.deep.equal([]);
  });

  it('takes the flows of a SIGKILLed engine over within its lease and a few heartbeats', async () => {
    const flows = 20;
    const a = cluster.node('A', { concurrency: 20, hold: 'b', flows: { kind: 'three', prefix: 'kill', count: flows } });
    await opened(cluster, a, true);
    settings.engine = 'B';
    const b = await cluster.open('B', { concurrency: 20 });
    const rids = ids('kill', flows);
    await cluster.until('every flow in river b in A', () => only(cluster.entries(), 'b', 'flow', 'A').length === flows);
    // B is open and has room, yet takes nothing while A heartbeats
    await new Promise((r) => setTimeout(r, 2 * HEARTBEAT_MS));
    expect(
      cluster.entries().filter((e) => e.engine === 'B'),
      `B's calls before the kill (${cluster.lapses()})`,
    ).to.deep.equal([]);

    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    const mark = cluster.note('killed A');
    const outcomes: FlowOutcome[] = await cluster.within(
      'every outcome in B',
      Promise.all(rids.map(async (rid) => (await draw(new Andes(b), 'three', rid).start()).result())),
    );
    expect(outcomes.map((o) => o.status)).to.deep.equal(rids.map(() => 'success'));

    const all = cluster.entries();
    each(only(all, 'a', 'flow'), rids, 1, 'calls of a');
    each(only(all, 'b', 'flow', 'A'), rids, 1, 'calls of b in A');
    each(only(all, 'b', 'flow', 'B'), rids, 1, 'calls of b in B');
    each(only(all, 'c', 'flow', 'B'), rids, 1, 'calls of c in B');
    each(only(all, 'c', 'flow'), rids, 1, 'calls of c');
    const inB = all.filter((e) => e.engine === 'B');
    expect(
      inB.every((e) => e.index > mark),
      "every B line after A's death",
    ).to.equal(true);
    expect(outcomes.every((o) => o.headwaters['a'] === 'a-A' && o.headwaters['b'] === 'b-B')).to.equal(true);

    const takeovers = only(inB, 'b', 'flow').map((e) => e.at - killedAt);
    const first = Math.min(...takeovers);
    const last = Math.max(...takeovers);
    console.log(`      takeover after SIGKILL: first flow ${first} ms, last ${last} ms (lease ${LEASE_MS} ms, heartbeat ${HEARTBEAT_MS} ms)`);
    expect(first, 'not before the lease ran out').to.be.at.least(LEASE_MS - 2 * HEARTBEAT_MS - 50);
    expect(last, 'within the lease and a few heartbeats').to.be.below(LEASE_MS + 5 * HEARTBEAT_MS + 500);
  });

  it('fences a SIGSTOPped engine: once it wakes after the takeover, nothing it writes changes the flows', async () => {
    const flows = 5;
    // A holds in river b until the gate file exists; the gate opens while A is stopped, so A goes
    // on (and writes) the moment it wakes, as its heartbeat does
    const gate = cluster.file('gate');
    const a = cluster.node('A', { concurrency: 5, hold: 'b', gate, flows: { kind: 'three', prefix: 'stop', count: flows } });
    await opened(cluster, a, true);
    settings.engine = 'B';
    const b = await cluster.open('B', { concurrency: 5 });
    const rids = ids('stop', flows);
    await cluster.until('every flow in river b in A', () => only(cluster.entries(), 'b', 'flow', 'A').length === flows);
    a.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    cluster.note('stopped A');
    const outcomes = await cluster.within(
      'every outcome in B',
      Promise.all(rids.map(async (rid) => (await draw(new Andes(b), 'three', rid).start()).result())),
    );
    expect(outcomes.map((o) => o.status)).to.deep.equal(rids.map(() => 'success'));
    // A's lease runs from its last heartbeat, up to a heartbeat before the stop
    expect(Date.now() - stoppedAt, 'A stayed stopped past its lease').to.be.above(LEASE_MS - 2 * HEARTBEAT_MS - 50);
    const before: FlowSnapshot[] = [];
    for (const rid of rids) before.push((await b.get(rid))!);

    fs.writeFileSync(gate, '');
    const mark = cluster.note('continued A');
    a.child.kill('SIGCONT');
    // A's sleeps end, its flows go on there and write; then its heartbeat learns it lost them
    await cluster.until('every b in A to return', () => only(cluster.entries(), 'b', 'done', 'A').length === flows);
    await new Promise((r) => setTimeout(r, 6 * HEARTBEAT_MS));
    const after: FlowSnapshot[] = [];
    for (const rid of rids) after.push((await b.get(rid))!);
    expect(after, 'the records B wrote').to.deep.equal(before);
    for (const s of after) {
      expect(s.status).to.equal('success');
      expect(s.headwaters).to.deep.include({ a: 'a-A', b: 'b-B', c: 'c-B' });
    }
    const late = cluster.entries().filter((e) => e.engine === 'A' && e.index > mark && e.phase !== 'done');
    expect(late, 'rivers A ran after it woke').to.deep.equal([]);
    const all = cluster.entries();
    each(only(all, 'c', 'flow'), rids, 1, 'calls of c');
    each(only(all, 'atlantic', 'success', 'B'), rids, 1, 'Atlantic.success in B');
    expect(only(all, 'atlantic', 'success', 'A')).to.deep.equal([]);

    // both close cleanly
    a.send('close');
    expect(await a.exited).to.equal(0);
    expect(cluster.lines().some((l) => l.startsWith('# closed A'))).to.equal(true);
  });

  it('a SIGSTOPped engine that wakes past its lease starts no poll of a flow it lost: its heartbeat tells it first', async () => {
    // A polls every 50 ms (its cycle() says not yet); B, where the poll is done at once, takes the flow over
    const a = cluster.node('A', { concurrency: 5, hold: 'poll', flows: { kind: 'poll', prefix: 'woken', count: 2, intervalMs: 50 } });
    await opened(cluster, a, true);
    await cluster.until('A polling both flows', () => {
      const polls = only(cluster.entries(), 'poll', 'cycle', 'A');
      return new Set(polls.map((e) => e.requestId)).size === 2;
    });
    a.child.kill('SIGSTOP');
    cluster.note('stopped A');
    settings.engine = 'B';
    const b = await cluster.open('B', { concurrency: 5 });
    for (const rid of ids('woken', 2)) {
      await cluster.until(`${rid} ended in B`, async () => (await b.get(rid))?.status === 'success');
    }
    // A's poll timers are long due when it wakes: before this fix it polled at once, then learned it had lost the flows
    await wakesIdle(a, b);
    a.send('close');
    expect(await a.exited).to.equal(0);
  });

  for (const [river, next, kind, hook] of [
    ['a', 'the next river', 'three', 'success'],
    ['c', 'the Atlantic hook', 'three', 'success'],
    ['f', 'a compensation', 'saga', 'fail'],
  ] as const) {
    it(`an engine stopped while the write of a river's end is in flight, woken past its lease, runs not ${next}: its heartbeat tells it first`, async () => {
      const a = cluster.node('A', { concurrency: 5, stopAfter: river, flows: { kind, prefix: 'inflight', count: 1 } });
      await opened(cluster, a, true);
      await cluster.until('A stopped after its river', () => processStopped(a.child.pid!));
      cluster.note('stopped A');
      settings.engine = 'B';
      const b = await cluster.open('B', { concurrency: 5 });
      // B takes the flow over once A's lease has lapsed, and runs what is left of it, its hook last
      await cluster.until(`Atlantic.${hook} in B`, () => only(cluster.entries(), 'atlantic', hook, 'B').length === 1);
      expect((await b.get('inflight-0'))?.status).to.equal(hook);
      await wakesIdle(a, b);
      each(only(cluster.entries(), 'atlantic', hook), ['inflight-0'], 1, `Atlantic.${hook}`);
      if (kind === 'saga') each(only(cluster.entries(), 'a', 'compensate'), ['inflight-0'], 1, 'compensate() of a');
      a.send('close');
      expect(await a.exited).to.equal(0);
    });
  }

  it('a cancel recorded for an engine that died before it carried it out: the engine that takes the flow over starts it cancelled', async () => {
    const a = cluster.node('A', { concurrency: 5, hold: 'b', flows: { kind: 'three', prefix: 'orphan', count: 1 } });
    await opened(cluster, a, true);
    await cluster.until('A inside b', () => only(cluster.entries(), 'b', 'flow', 'A').length === 1);
    // stopped, A holds its lease a while yet: the cancel is left for it, and it dies with the cancel undone
    a.child.kill('SIGSTOP');
    const client = await cluster.open('P', { concurrency: 0 });
    const id = (await client.get('orphan-0'))!.id;
    const cancelled = client.cancel(id, 'left for A');
    await cluster.until(
      'the cancel recorded for A',
      async () => (await client.get(id))?.status === 'running' && (await pendingCancels(cluster.schema, id)) === 1,
    );
    a.child.kill('SIGKILL');
    await a.exited;
    const mark = cluster.note('killed A');
    settings.engine = 'B';
    await cluster.open('B', { concurrency: 5 });
    await cluster.within('the cancel carried out', cancelled);
    const snap = (await client.get(id))!;
    expect(snap.status).to.equal('cancelled');
    expect(snap.error?.message).to.include('left for A');
    const inB = cluster.entries().filter((e) => e.index > mark);
    expect(
      inB.map((e) => `${e.river} ${e.phase} ${e.engine}`),
      'B ran no river again, only Atlantic.fail',
    ).to.deep.equal(['atlantic fail B']);
    expect(await pendingCancels(cluster.schema, id), 'the cancel consumed').to.equal(0);
  });

  it('a cancel from another engine takes effect in the engine that runs the flow within about a heartbeat', async () => {
    const a = cluster.node('A', { concurrency: 5, leaseTime: STEADY, hold: 'poll,b', flows: { kind: 'poll', prefix: 'polling', count: 1, intervalMs: 100 } });
    await opened(cluster, a, true);
    const client = await cluster.open('P', { concurrency: 0, worker: { leaseTime: STEADY } });
    // a second flow, started by the client, that A takes and holds inside flow()
    const blocked = await draw(new Andes(client), 'three', 'blocked').start();
    await cluster.until('A polling and A inside b', () => {
      const all = cluster.entries();
      return only(all, 'poll', 'cycle', 'A').length >= 1 && only(all, 'b', 'flow', 'A').length === 1;
    });
    const polling = (await client.get('polling-0'))!;
    for (const [id, rid] of [
      [polling.id, 'polling-0'],
      [blocked.id, 'blocked'],
    ] as const) {
      const t0 = Date.now();
      await client.cancel(id, 'from the client');
      const took = Date.now() - t0;
      console.log(`      cancel of ${rid} from another engine: ${took} ms`);
      expect(took, `cancel of ${rid}`).to.be.below(5 * HEARTBEAT_MS + 400);
      const snap = (await client.get(id))!;
      expect(snap.status).to.equal('cancelled');
      expect(snap.error).to.include({ code: 'E_CANCELLED' });
      expect(only(cluster.entries(), 'atlantic', 'fail', 'A').map((e) => e.requestId)).to.include(rid);
    }
    expect((await blocked.result()).status).to.equal('cancelled');
    expect(only(cluster.entries(), 'c', 'flow')).to.deep.equal([]);
    expect(only(cluster.entries(), 'atlantic', 'success')).to.deep.equal([]);
  });

  it('one requestId started by two engines at the same moment is one flow, run once', async () => {
    const b = await cluster.open('B', { concurrency: 5, worker: { leaseTime: STEADY } });
    const c = await cluster.open('C', { concurrency: 5, worker: { leaseTime: STEADY } });
    const rids = ids('same', 10);
    for (const rid of rids) {
      const [r1, r2] = await Promise.all([draw(new Andes(b), 'three', rid).start(), draw(new Andes(c), 'three', rid).start()]);
      expect(r1.id, rid).to.equal(r2.id);
      expect([r1.existing, r2.existing].filter((e) => e).length, `${rid}: runs marked existing`).to.equal(1);
      const [o1, o2] = await cluster.within(`the outcomes of ${rid}`, Promise.all([r1.result(), r2.result()]));
      expect([o1.status, o2.status]).to.deep.equal(['success', 'success']);
    }
    expect((await b.list()).map((s) => s.requestId).sort()).to.deep.equal([...rids].sort());
    const all = cluster.entries();
    for (const river of ['a', 'b', 'c']) each(only(all, river, 'flow'), rids, 1, `calls of ${river}`);
    each(only(all, 'atlantic', 'success'), rids, 1, 'Atlantic.success');
  });

  it('an engine without a flow’s classes never claims it; the flow waits for an engine that has them', async () => {
    const c = cluster.node('C', { concurrency: 10, leaseTime: STEADY, classes: ['Step', 'Poll', 'End'] });
    const a = cluster.node('A', { concurrency: 10, leaseTime: STEADY, deferOpen: true });
    await opened(cluster, c);
    const client = await cluster.open('P', { concurrency: 0, worker: { leaseTime: STEADY } });
    const plain = ids('plain', 6);
    const special = ids('special', 6);
    const runs = new Map<string, FlowRun>();
    for (let i = 0; i < 6; i++) {
      runs.set(special[i]!, await draw(new Andes(client), 'special', special[i]!).start());
      runs.set(plain[i]!, await draw(new Andes(client), 'three', plain[i]!).start());
    }
    const plainOut = await cluster.within('the plain outcomes', Promise.all(plain.map((rid) => runs.get(rid)!.result())));
    expect(plainOut.map((o) => o.status)).to.deep.equal(plain.map(() => 'success'));
    // C has room all along and heartbeats: the special flows still wait, untouched
    await new Promise((r) => setTimeout(r, 4 * HEARTBEAT_MS));
    for (const rid of special) expect((await client.get(rid))!.status, rid).to.equal('waiting');
    expect(cluster.entries().filter((e) => special.includes(e.requestId))).to.deep.equal([]);

    a.send('open');
    const specialOut = await cluster.within('the special outcomes', Promise.all(special.map((rid) => runs.get(rid)!.result())));
    expect(specialOut.map((o) => o.status)).to.deep.equal(special.map(() => 'success'));
    const all = cluster.entries();
    const ofSpecial = all.filter((e) => special.includes(e.requestId));
    expect([...new Set(ofSpecial.map((e) => e.engine))], 'engines that ran the special flows').to.deep.equal(['A']);
    each(only(ofSpecial, 's', 'flow'), special, 1, 'calls of s');
    each(only(all, 'a', 'flow', 'C'), plain, 1, 'plain flows in C');
  });

  it('close() releases its claims at once: another engine takes parked flows over long before the lease', async () => {
    const flows = 5;
    const a = cluster.node('A', { concurrency: 10, leaseTime: '30s', hold: 'poll', flows: { kind: 'poll', prefix: 'parked', count: flows, intervalMs: 200 } });
    await opened(cluster, a, true);
    settings.engine = 'B';
    const b = await cluster.open('B', { concurrency: 10, worker: { leaseTime: '30s' } });
    const rids = ids('parked', flows);
    await cluster.until('every flow polling in A', () => new Set(only(cluster.entries(), 'poll', 'cycle', 'A').map((e) => e.requestId)).size === flows);
    const t0 = Date.now();
    a.send('close');
    const outcomes = await cluster.within('every outcome in B', Promise.all(rids.map(async (rid) => (await draw(new Andes(b), 'poll', rid).start()).result())));
    const took = Date.now() - t0;
    console.log(`      takeover after close(): ${took} ms (lease 30 s)`);
    expect(outcomes.map((o) => o.status)).to.deep.equal(rids.map(() => 'success'));
    expect(took).to.be.below(3000);
    expect(await a.exited).to.equal(0);
    const all = cluster.entries();
    each(only(all, 'poll', 'flow'), rids, 1, 'flow() of the poll');
    each(only(all, 'poll', 'cycle', 'B'), rids, 1, 'polls in B');
    expect(outcomes.every((o) => o.headwaters['poll'] === 'poll-B')).to.equal(true);
  });

  it('flows held at Dams take no place in the window: with concurrency 2 an engine holds 6 and runs others; SIGKILLed, another takes the 6 over', async () => {
    const held = ids('dam', 6);
    const a = cluster.node('A', { concurrency: 2, flows: { kind: 'dam', prefix: 'dam', count: held.length } });
    await opened(cluster, a, true);
    // four of the six were created waiting (the window was full): each takes a place as one before it parks at its Dam
    await cluster.until('every Dam flow past its step a in A', () => only(cluster.entries(), 'a', 'flow', 'A').length === held.length);
    settings.engine = 'client';
    const client = await cluster.open('client', { concurrency: 0 });
    const quick = ids('quick', 4);
    const quickOutcomes = await cluster.within(
      'the other flows, run by A while it holds six at Dams',
      Promise.all(quick.map(async (rid) => (await draw(new Andes(client), 'three', rid).start()).result())),
    );
    expect(quickOutcomes.map((o) => o.status)).to.deep.equal(quick.map(() => 'success'));
    each(only(cluster.entries(), 'c', 'flow', 'A'), quick, 1, 'calls of c in A');

    a.child.kill('SIGKILL');
    await a.exited;
    const mark = cluster.note('killed A');
    settings.engine = 'B';
    await cluster.open('B', { concurrency: 2 });
    const runs = await Promise.all(held.map((rid) => draw(new Andes(client), 'dam', rid).start()));
    for (const run of runs) await client.send(run.id, 'go', run.requestId);
    const outcomes = await cluster.within('the six held flows, ended in B', Promise.all(runs.map((r) => r.result())));
    expect(outcomes.map((o) => o.status)).to.deep.equal(held.map(() => 'success'));
    expect(outcomes.map((o) => o.headwaters['go'])).to.deep.equal(held);
    const all = cluster.entries();
    each(only(all, 'a', 'flow'), held, 1, 'calls of a');
    each(
      only(all, 'c', 'flow', 'B').filter((e) => e.index > mark),
      held,
      1,
      'calls of c in B, after the kill',
    );
    each(only(all, 'c', 'flow'), held, 1, 'calls of c');
  });

  it('workers() lists the live engines with their running counts; a killed one drops out after its lease', async () => {
    const a = cluster.node('A', { concurrency: 10, hold: 'b', flows: { kind: 'three', prefix: 'held', count: 3 } });
    const c = cluster.node('C', { concurrency: 10 });
    await Promise.all([opened(cluster, a, true), opened(cluster, c)]);
    const client = await cluster.open('P', { concurrency: 0 });
    const listed = await cluster.until('A running 3 in workers()', async () => {
      const w = await client.workers();
      return w.find((x) => x.id === 'A')?.running === 3 ? w : undefined;
    });
    expect(listed.map((w) => w.id)).to.deep.equal(['A', 'C', 'P']);
    expect(listed.map((w) => w.running)).to.deep.equal([3, 0, 0]);
    for (const w of listed) expect(Date.now() - w.heartbeatAt, `${w.id}'s last heartbeat`).to.be.below(LEASE_MS);

    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    expect((await client.workers()).map((w) => w.id)).to.include('A');
    await cluster.until('A gone from workers()', async () => !(await client.workers()).some((w) => w.id === 'A'));
    const gone = Date.now() - killedAt;
    console.log(`      killed engine left workers() after ${gone} ms`);
    expect(gone).to.be.at.least(LEASE_MS - 2 * HEARTBEAT_MS - 50);
    expect(gone).to.be.below(LEASE_MS + 5 * HEARTBEAT_MS + 500);
    // C takes A's flows over; its running count shows them, then drops to 0
    const outcomes = await cluster.within(
      'the outcomes of the flows C took over',
      Promise.all(ids('held', 3).map(async (rid) => (await draw(new Andes(client), 'three', rid).start()).result())),
    );
    expect(outcomes.map((o) => o.status)).to.deep.equal(['success', 'success', 'success']);
    await cluster.until('C running 0', async () => (await client.workers()).find((w) => w.id === 'C')?.running === 0);
    expect((await client.workers()).map((w) => w.id)).to.deep.equal(['C', 'P']);
  });
});

describe('concurrency: 0 without a shared store', () => {
  it('rejects with E_INVALID_ARGUMENT on memory and on LevelDB', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-client-'));
    try {
      for (const store of ['memory', dir]) {
        const err = await Engine.open({ store, concurrency: 0, logger: silent }).then(
          (e) => e.close().then(() => undefined),
          (e: unknown) => e,
        );
        expect(err, String(store)).to.have.property('code', 'E_INVALID_ARGUMENT');
      }
      // the directory was not left locked: an engine opens on it
      const engine = await Engine.open({ store: dir, logger: silent });
      await engine.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
