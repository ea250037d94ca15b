import { expect } from 'chai';
import type { BlueprintStream } from '../../lib/model/blueprint.js';
import { inconsistency } from '../../lib/store/consistency.js';
import type { FlowStatus, StoredFlow, StreamRecord, StreamState } from '../../lib/store/records.js';
import { header, rec } from './conformance/types.js';

const flow = (status: FlowStatus, streams: BlueprintStream[], states: Record<string, StreamState | [StreamState, string]>): StoredFlow => ({
  header: header('f', { status }),
  blueprint: { vastflow: 1, streams },
  streams: Object.fromEntries(Object.entries(states).map(([id, s]) => [id, Array.isArray(s) ? rec({ state: s[0], choice: s[1] }) : rec({ state: s })])),
  headwaters: {},
});

/**
 * A flow of three rivers with compensations: `success` alone is a river compensated (state
 * `compensated`, compensation `success`); [state, compensation] gives both.
 */
function comp(
  status: FlowStatus,
  states: Record<string, 'success' | 'fail' | 'skipped' | [StreamState, NonNullable<StreamRecord['compensation']>['state']]>,
): StoredFlow {
  const f = flow(status, three, {});
  for (const [id, s] of Object.entries(states)) {
    if (s === 'fail' || s === 'skipped') f.streams[id] = rec({ state: s });
    else {
      const [state, c] = s === 'success' ? (['compensated', 'success'] as const) : s;
      f.streams[id] = rec({ state, compensation: { state: c, attempts: 1, startedAt: 1 } });
    }
  }
  return f;
}

/** Marks rivers of a flow compensated. */
function withComp(f: StoredFlow, ids: string[]): StoredFlow {
  for (const id of ids) f.streams[id] = rec({ state: 'compensated', compensation: { state: 'success', attempts: 1, startedAt: 1 } });
  return f;
}

const r = { river: 'R' };
const three = [r, r, r];
const par = [{ parallel: [[r, r], [r]] }, r];
const fork = [{ fork: 'F', branches: { big: [r], small: [r, r] } }, r];

describe("inconsistency(flow): whether a flow's records agree", () => {
  const legit: Array<[string, StoredFlow]> = [
    ['a flow not yet started', flow('running', three, {})],
    ['a river running after one that succeeded', flow('running', three, { 0: 'success', 1: 'running' })],
    ['a successful flow', flow('success', three, { 0: 'success', 1: 'success', 2: 'success' })],
    ['a failed flow whose later rivers were skipped', flow('fail', three, { 0: 'fail', 1: 'skipped', 2: 'skipped' })],
    ['an atomic river that ran after a skipped one', flow('fail', three, { 0: 'success', 1: 'skipped', 2: 'success' })],
    ['the same after a redrive put the skipped river back to init', flow('running', three, { 0: 'success', 2: 'success' })],
    ['parallel branches running at once', flow('running', par, { 0: 'running', '0.0.0': 'success', '0.0.1': 'running', '0.1.0': 'cycling' })],
    [
      'a parallel that succeeded with branches skipped while the flow failed',
      flow('fail', par, { 0: 'success', '0.0.0': 'success', '0.0.1': 'skipped', '0.1.0': 'success', 1: 'skipped' }),
    ],
    [
      'a fork that chose, its other branch skipped',
      flow('success', fork, { 0: ['success', 'small'], '0.0.0': 'skipped', '0.1.0': 'success', '0.1.1': 'success', 1: 'success' }),
    ],
    ['a fork whose choose() threw: its branches never started', flow('fail', fork, { 0: 'fail', 1: 'skipped' })],
    [
      'a cancelled flow that never started',
      flow('cancelled', fork, { 0: 'skipped', '0.0.0': 'skipped', '0.1.0': 'skipped', '0.1.1': 'skipped', 1: 'skipped' }),
    ],
  ];
  legit.push(
    ['a failed flow whose rivers were compensated', comp('fail', { 0: 'success', 1: 'success', 2: 'fail' })],
    ['a flow compensating after its failure', comp('running', { 0: ['success', 'running'], 1: ['compensated', 'success'], 2: 'fail' })],
    ['a failed flow with a compensation that failed', comp('fail', { 0: ['success', 'fail'], 1: ['compensated', 'success'], 2: 'fail' })],
    [
      'a parallel that succeeded whose rivers were compensated',
      withComp(flow('cancelled', par, { 0: 'success', '0.0.0': 'success', '0.0.1': 'success', '0.1.0': 'success', 1: 'skipped' }), ['0.0.0', '0.1.0']),
    ],
  );
  for (const [what, f] of legit) it(`accepts ${what}`, () => expect(inconsistency(f)).to.equal(undefined));

  const broken: Array<[string, StoredFlow, RegExp]> = [
    ['a successful flow with a river still init', flow('success', three, { 0: 'success', 2: 'success' }), /success while stream 1/],
    [
      'an ended flow with a river running',
      flow('fail', three, { 0: 'fail', 1: 'running' }),
      /stream 1 is running while stream 0 before it is fail|the flow is fail while stream 1 is running/,
    ],
    [
      'a river that started before the one ahead of it ended',
      flow('running', three, { 0: 'running', 1: 'running' }),
      /stream 1 is running while stream 0 before it is running/,
    ],
    ['a branch record under a parallel without one', flow('running', par, { '0.0.0': 'running' }), /inside parallel 0, which has no record/],
    [
      'a parallel that succeeded while a branch failed',
      flow('running', par, { 0: 'success', '0.0.0': 'success', '0.0.1': 'fail', '0.1.0': 'success' }),
      /parallel 0 succeeded while stream 0.0.1/,
    ],
    ['a fork whose choice is not a branch', flow('running', fork, { 0: ['running', 'medium'] }), /not one of its branches/],
    [
      'a river run in a branch the fork did not choose',
      flow('running', fork, { 0: ['running', 'big'], '0.0.0': 'running', '0.1.0': 'success' }),
      /branch small that fork 0 did not choose/,
    ],
    ['a record of a stream the drawing lacks', flow('running', three, { 7: 'success' }), /drawing does not have/],
  ];
  broken.push(
    [
      'a compensated river in a successful flow',
      comp('success', { 0: 'success', 1: 'success', 2: 'success' }),
      /the flow is success while (stream 0 is compensated|river 0 has a compensation)/,
    ],
    ['an ended flow with a compensation still running', comp('fail', { 0: ['success', 'retry'], 1: 'fail' }), /compensation of river 0 is retry/],
    [
      'a river compensated without a compensation that succeeded',
      comp('fail', { 0: ['compensated', 'fail'], 1: 'fail' }),
      /river 0 is compensated with a compensation fail/,
    ],
    ['a compensation of a river that failed', comp('fail', { 0: ['fail', 'fail'], 1: 'skipped' }), /river 0 is fail with a compensation fail/],
  );
  for (const [what, f, why] of broken) it(`finds ${what}`, () => expect(inconsistency(f)).to.match(why));
});
