// The state machine as tables: for each state and event, the record that comes out (or that the
// transition does not exist). The functions are pure: the record given is never changed.
import { expect } from 'chai';
import { HISTORY_LIMIT, IllegalTransition, nextFlow, nextStream, type FlowEvent, type StreamEvent } from '../../lib/engine/transitions.js';
import type { FlowError, FlowHeader, StreamRecord, StreamState } from '../../lib/index.js';

const boom: FlowError = { code: 'E_RIVER_FAILED', message: 'boom', river: 'R', attempts: 1 };
const stopped: FlowError = { code: 'E_CANCELLED', message: 'river R stopped: river S failed', river: 'R', cause: { river: 'S' } };
const T = 1_000;

const rec = (state: StreamState, extra: Partial<StreamRecord> = {}): StreamRecord => Object.freeze({ state, attempts: 0, cycles: 0, ...extra });
const ALL: StreamState[] = ['init', 'running', 'cycling', 'success', 'fail', 'skipped', 'compensated'];

/** [event, states it applies to, what the record becomes (checked with include)] */
const STREAM_TABLE: Array<[string, StreamEvent, StreamState[], (r: StreamRecord) => Partial<StreamRecord>]> = [
  ['begin', { type: 'begin', at: T }, ['init'], () => ({ state: 'init', startedAt: T })],
  ['attempt', { type: 'attempt', attempt: 2 }, ['init', 'running'], () => ({ state: 'running', attempts: 2, phase: 'flow', dueAt: undefined })],
  ['attemptFailed, retried', { type: 'attemptFailed', error: boom, retryAt: T + 5 }, ['running'], () => ({ state: 'running', phase: 'retry', dueAt: T + 5 })],
  ['attemptFailed, last', { type: 'attemptFailed', error: boom }, ['running'], () => ({ state: 'running' })],
  ['cycle', { type: 'cycle', dueAt: T + 10 }, ['running'], () => ({ state: 'cycling', phase: 'cycle', dueAt: T + 10 })],
  ['polled, more to come', { type: 'polled', poll: 3, nextAt: T + 20 }, ['cycling'], () => ({ state: 'cycling', cycles: 3, dueAt: T + 20 })],
  ['polled, failed', { type: 'polled', poll: 1, error: boom }, ['cycling'], () => ({ state: 'cycling', cycles: 1 })],
  ['end, success', { type: 'end', at: T }, ['init', 'running', 'cycling'], () => ({ state: 'success', endedAt: T, phase: undefined, dueAt: undefined })],
  ['end, failure', { type: 'end', error: boom, at: T }, ['init', 'running', 'cycling'], () => ({ state: 'fail', endedAt: T, error: boom })],
  [
    'stop',
    { type: 'stop', error: stopped, at: T },
    ['running', 'cycling'],
    () => ({ state: 'fail', error: stopped, endedAt: T, phase: undefined, dueAt: undefined }),
  ],
  ['skip', { type: 'skip' }, ['init'], () => ({ state: 'skipped' })],
  ['open', { type: 'open', at: T }, ['init', 'running'], (r) => ({ state: 'running', startedAt: r.startedAt ?? T })],
  ['close, ok', { type: 'close', ok: true, at: T }, ['running'], () => ({ state: 'success', endedAt: T })],
  ['close, failed by itself', { type: 'close', ok: false, at: T, error: boom }, ['running'], () => ({ state: 'fail', endedAt: T, error: boom })],
  ['choose', { type: 'choose', choice: 'big' }, ['running'], () => ({ state: 'running', choice: 'big' })],
  [
    'compensate',
    { type: 'compensate', attempt: 1, at: T },
    ['success'],
    () => ({ state: 'success', compensation: { state: 'running', attempts: 1, startedAt: T } }),
  ],
];

describe('the state machine', () => {
  describe('streams', () => {
    for (const [name, event, from, expected] of STREAM_TABLE) {
      for (const state of ALL) {
        const before = rec(state, state === 'running' ? { startedAt: 5 } : {});
        if (from.includes(state)) {
          it(`${state} + ${name}`, () => {
            const after = nextStream(before, event);
            expect(after).to.not.equal(before);
            expect(after).to.deep.include(expected(before));
          });
        } else {
          it(`${state} + ${name}: no such transition`, () => {
            expect(() => nextStream(before, event)).to.throw(IllegalTransition);
          });
        }
      }
    }

    it('a river that succeeds carries no error, one that failed before and is redriven neither', () => {
      expect(nextStream(rec('running'), { type: 'end', at: T }).error).to.equal(undefined);
      const again = nextStream(nextStream(rec('fail', { error: boom }), { type: 'redrive', kind: 'river' }), { type: 'end', at: T });
      expect(again.error).to.equal(undefined);
    });

    it('keeps every failed attempt and poll error, oldest first', () => {
      let r = nextStream(rec('running'), { type: 'attemptFailed', error: boom, retryAt: 1 });
      r = nextStream(nextStream(r, { type: 'attempt', attempt: 2 }), { type: 'cycle', dueAt: 2 });
      r = nextStream(r, { type: 'polled', poll: 1, error: { ...boom, message: 'poll' } });
      expect(r.errors!.map((e) => e.message)).to.deep.equal(['boom', 'poll']);
    });

    it('records each call in the history, ended with its error, and caps it at its first and latest entries', () => {
      let r = rec('running');
      r = nextStream(r, { type: 'call', attempt: 1, phase: 'flow', at: 1 });
      r = nextStream(r, { type: 'called', at: 2, error: boom });
      expect(r.history).to.deep.equal([{ attempt: 1, phase: 'flow', startedAt: 1, endedAt: 2, error: boom }]);
      expect(nextStream(r, { type: 'called', at: 3 }), 'an ended entry is not ended again').to.equal(r);
      for (let i = 1; i <= HISTORY_LIMIT + 10; i++)
        r = nextStream(nextStream(r, { type: 'call', attempt: i, phase: 'cycle', at: 10 + i }), { type: 'called', at: 11 + i });
      expect(r.history).to.have.length(HISTORY_LIMIT);
      expect(r.history![0]).to.include({ phase: 'flow', attempt: 1 });
      expect(r.history!.at(-1)).to.include({ phase: 'cycle', attempt: HISTORY_LIMIT + 10 });
    });

    it('compensates: an attempt, its retry wait, its failure or the river compensated; an ended compensation takes no attempt', () => {
      const done = rec('success', { completion: 2, endedAt: 5 });
      const first = nextStream(done, { type: 'compensate', attempt: 1, at: T });
      const waiting = nextStream(first, { type: 'compensateFailed', error: boom, retryAt: T + 50, at: T + 1 });
      expect(waiting).to.deep.include({ state: 'success', completion: 2, compensation: { state: 'retry', attempts: 1, dueAt: T + 50, startedAt: T } });
      const second = nextStream(waiting, { type: 'compensate', attempt: 2, at: T + 50 });
      expect(second.compensation).to.deep.equal({ state: 'running', attempts: 2, startedAt: T });
      // recovery runs the attempt it found running again
      expect(nextStream(second, { type: 'compensate', attempt: 2, at: T + 60 }).compensation).to.deep.equal({ state: 'running', attempts: 2, startedAt: T });
      const ok = nextStream(second, { type: 'compensated', at: T + 70 });
      expect(ok).to.deep.include({ state: 'compensated', endedAt: 5, compensation: { state: 'success', attempts: 2, startedAt: T, endedAt: T + 70 } });
      const failed = nextStream(second, { type: 'compensateFailed', error: boom, at: T + 70 });
      expect(failed).to.deep.include({ state: 'success', compensation: { state: 'fail', attempts: 2, startedAt: T, endedAt: T + 70, error: boom } });
      for (const ended of [ok, failed]) {
        expect(() => nextStream(ended, { type: 'compensate', attempt: 3, at: T })).to.throw(IllegalTransition);
        expect(() => nextStream(ended, { type: 'compensated', at: T })).to.throw(IllegalTransition);
      }
      expect(() => nextStream(waiting, { type: 'compensated', at: T })).to.throw(IllegalTransition);
      expect(() => nextStream(done, { type: 'compensateFailed', error: boom, at: T })).to.throw(IllegalTransition);
      expect(nextStream(ok, { type: 'redrive', kind: 'river' })).to.equal(ok);
      // a river's success numbers it only when asked to
      expect(nextStream(rec('running'), { type: 'end', at: T, completion: 3 }).completion).to.equal(3);
      expect(nextStream(rec('running'), { type: 'end', at: T, error: boom, completion: 3 }).completion).to.equal(undefined);
    });

    it('redrives: a river that did not succeed starts over with its errors and calls; a container resumes; a skipped fork chooses anew', () => {
      const history = [{ attempt: 1, phase: 'flow' as const, startedAt: 1, endedAt: 2 }];
      const failed = rec('fail', { attempts: 3, errors: [boom], error: boom, history, startedAt: 1, endedAt: 2 });
      expect(nextStream(failed, { type: 'redrive', kind: 'river' })).to.deep.include({
        state: 'init',
        attempts: 0,
        cycles: 0,
        errors: [boom],
        history,
        startedAt: 1,
      });
      expect(nextStream(rec('success'), { type: 'redrive', kind: 'river' }).state).to.equal('success');
      expect(nextStream(rec('fail', { endedAt: 9 }), { type: 'redrive', kind: 'parallel' })).to.include({ state: 'running', endedAt: undefined });
      expect(nextStream(rec('skipped', { choice: 'a' }), { type: 'redrive', kind: 'fork' })).to.include({ state: 'init', choice: undefined });
      expect(nextStream(rec('fail', { choice: 'a' }), { type: 'redrive', kind: 'fork' })).to.include({ state: 'running', choice: 'a' });
    });
  });

  describe('flows', () => {
    const header = (status: FlowHeader['status'], extra: Partial<FlowHeader> = {}): FlowHeader =>
      Object.freeze({ id: 'f', requestId: 'r', status, seq: 1, createdAt: 0, updatedAt: 0, ...extra });
    const STATUSES: Array<FlowHeader['status']> = ['waiting', 'running', 'success', 'fail', 'cancelled'];
    const FLOW_TABLE: Array<[string, FlowEvent, Array<FlowHeader['status']>, Partial<FlowHeader>]> = [
      ['claim', { type: 'claim', at: T }, ['waiting'], { status: 'running', updatedAt: T }],
      ['failing', { type: 'failing', error: boom }, ['running'], { status: 'running', error: boom }],
      ['cancel', { type: 'cancel', reason: 'no', at: T }, ['waiting', 'running'], { cancelReason: 'no', updatedAt: T }],
      ['cancel, taken to run', { type: 'cancel', reason: 'no', at: T, run: true }, ['waiting', 'running'], { status: 'running', cancelReason: 'no' }],
      [
        'end with hooks',
        { type: 'end', status: 'fail', error: boom, hooks: true, at: T },
        ['running'],
        { status: 'fail', error: boom, atlantic: { outcome: 'fail', done: false } },
      ],
      [
        'end without hooks',
        { type: 'end', status: 'success', hooks: false, at: T },
        ['running'],
        { status: 'success', error: undefined, atlantic: { outcome: 'success', done: true } },
      ],
      [
        'redrive',
        { type: 'redrive', waiting: true, seq: 7, at: T },
        ['fail'],
        { status: 'waiting', seq: 7, error: undefined, atlantic: undefined, cancelReason: undefined },
      ],
    ];
    for (const [name, event, from, expected] of FLOW_TABLE) {
      for (const status of STATUSES) {
        const before = header(status, { error: status === 'fail' ? boom : undefined });
        if (from.includes(status)) {
          it(`${status} + ${name}`, () => expect(nextFlow(before, event)).to.deep.include(expected));
        } else {
          it(`${status} + ${name}: no such transition`, () => expect(() => nextFlow(before, event)).to.throw(IllegalTransition));
        }
      }
    }

    it('records the hook once: a hook already done cannot be recorded again', () => {
      const ended = nextFlow(header('running'), { type: 'end', status: 'success', hooks: true, at: 1 });
      const hooked = nextFlow(ended, { type: 'hooked', error: boom, at: 2 });
      expect(hooked.atlantic).to.deep.equal({ outcome: 'success', done: true, error: boom });
      expect(() => nextFlow(hooked, { type: 'hooked', at: 3 })).to.throw(IllegalTransition);
      expect(() => nextFlow(header('running'), { type: 'hooked', at: 3 })).to.throw(IllegalTransition);
    });
  });
});
