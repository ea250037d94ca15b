// The records of a flow parked for long, packed into one string and back: every field of every
// kind of record comes back as it was; a field the packing does not know keeps its record whole.
import { expect } from 'chai';
import { packRecords, unpackRecords } from '../../lib/engine/packed-records.js';
import type { FlowError, StreamRecord } from '../../lib/index.js';

const T = 1_796_418_917_502;
const boom: FlowError = { code: 'E_RIVER_FAILED', message: 'boom "quoted" \u2028', river: 'R', attempts: 2, cause: 'socket hang up' };
const stopped: FlowError = { code: 'E_CANCELLED', message: 'river R stopped', river: 'R', cause: { river: 'S' } };

const RECORDS: Array<[string, StreamRecord]> = [
  ['a stream not started', { state: 'init', attempts: 0, cycles: 0 }],
  ['a container running', { state: 'running', attempts: 0, cycles: 0, startedAt: T }],
  [
    'a river between polls',
    {
      state: 'cycling',
      attempts: 1,
      cycles: 3,
      dueAt: T + 60_000,
      phase: 'cycle',
      startedAt: T,
      history: [
        { attempt: 1, phase: 'flow', startedAt: T, endedAt: T + 1 },
        { attempt: 3, phase: 'cycle', startedAt: T + 2, endedAt: T + 3 },
      ],
    },
  ],
  [
    'a river waiting for its retry',
    {
      state: 'running',
      attempts: 2,
      cycles: 0,
      dueAt: T + 2_000,
      phase: 'retry',
      startedAt: T,
      errors: [boom, { code: 'E_TIMEOUT', message: 'slow' }],
      history: [{ attempt: 1, phase: 'flow', startedAt: T, endedAt: T + 5, error: boom }],
    },
  ],
  ['a river stopped', { state: 'fail', attempts: 1, cycles: 0, startedAt: T, endedAt: T + 9, error: stopped }],
  ['a fork that chose', { state: 'running', attempts: 0, cycles: 0, startedAt: T, choice: 'slow path' }],
  ['a basin with touched keys', { state: 'running', attempts: 0, cycles: 0, startedAt: T, touched: ['a', 'b.c', ''] }],
  [
    'a river compensating',
    {
      state: 'success',
      attempts: 1,
      cycles: 0,
      startedAt: T,
      endedAt: T + 1,
      completion: 2,
      compensation: { state: 'retry', attempts: 1, dueAt: T + 5_000, startedAt: T + 2, error: boom },
      history: [{ attempt: 1, phase: 'compensate', startedAt: T + 2, endedAt: T + 3, error: boom }],
    },
  ],
  ['a field the packing does not know', { state: 'running', attempts: 0, cycles: 0, startedAt: T, later: { x: 1 } } as unknown as StreamRecord],
  [
    'a history entry with a field the packing does not know',
    { state: 'running', attempts: 1, cycles: 0, history: [{ attempt: 1, phase: 'flow', startedAt: T, note: 'n' } as never] },
  ],
  ['a field that holds null', { state: 'running', attempts: 0, cycles: 0, choice: null } as unknown as StreamRecord],
];

describe('packed records of a parked flow', () => {
  for (const [what, record] of RECORDS) {
    it(`gives back ${what} as it was`, () => {
      expect(unpackRecords(packRecords([record]))).to.deep.equal([record]);
    });
  }

  it('gives back a flow’s records in their order, and undefined fields as absent ones', () => {
    const records = RECORDS.map(([, r]) => r);
    expect(unpackRecords(packRecords(records))).to.deep.equal(records);
    const withUndefined = { state: 'running', attempts: 1, cycles: 0, dueAt: undefined, error: undefined } as StreamRecord;
    expect(unpackRecords(packRecords([withUndefined]))).to.deep.equal([{ state: 'running', attempts: 1, cycles: 0 }]);
  });

  it('is half the size of the records’ JSON for a river between polls', () => {
    const polling = RECORDS[2]![1];
    expect(packRecords([polling]).length).to.be.below(JSON.stringify([polling]).length * 0.6);
  });
});
