import { expect } from 'chai';
import { headerJson, jsonNumber, pushStreams, streamJson } from '../../lib/store/record-json.js';
import type { FlowHeader, StreamRecord } from '../../lib/store/records.js';

// Required<…>: a field added to a record type fails the type check here until the fixture (and so
// the serializer, or the deep-equal below fails) has it
const fullHeader: Required<FlowHeader> = {
  id: 'f-1',
  requestId: 'order "42"\n\u2028é\ud800',
  status: 'fail',
  seq: 1_796_227_685_159_000,
  createdAt: 1_796_227_685_159,
  updatedAt: 1_796_227_685_166,
  reqInfo: { user: 'u1', tags: ['a', 'b'], n: 1.5, nested: { ok: true, none: null } },
  error: { code: 'E_RIVER_FAILED', message: 'boom "x"', river: 'R', attempts: 3, cause: { river: 'S' } },
  atlantic: { outcome: 'fail', done: false, error: { code: 'E_RIVER_FAILED', message: 'hook' } },
  cancelReason: 'operator\tsaid so',
  dueAt: 1_796_227_745_000,
};

const fullStream: Required<StreamRecord> = {
  state: 'compensated',
  attempts: 2,
  cycles: 7,
  dueAt: 4_102_444_800_000,
  phase: 'cycle',
  startedAt: 1_796_227_685_163,
  endedAt: 1_796_227_685_165.25,
  errors: [{ code: 'E_RIVER_FAILED', message: 'first' }],
  error: { code: 'E_TIMEOUT', message: 'late', river: 'R' },
  history: [
    { attempt: 1, phase: 'flow', startedAt: 1_796_227_685_163, endedAt: 1_796_227_685_164, error: { code: 'E_RIVER_FAILED', message: 'first' } },
    { attempt: 2, phase: 'compensate', startedAt: 1_796_227_685_164 },
  ],
  choice: 'big "one"',
  touched: ['a', 'b\\c'],
  completion: 3,
  compensation: { state: 'retry', attempts: 1, dueAt: 1_796_227_685_200, startedAt: 1_796_227_685_170, error: { code: 'E_RIVER_FAILED', message: 'undo' } },
};

/** The JSON pushStreams appends, joined. */
const streamsJson = (streams: Record<string, StreamRecord>): string => {
  const p: string[] = [];
  pushStreams(p, streams);
  return p.join('');
};

const same = (text: string, value: unknown): void => void expect(JSON.parse(text)).to.deep.equal(JSON.parse(JSON.stringify(value)));

describe('record JSON', () => {
  it('prints every number as JSON.stringify does', () => {
    const numbers = [0, -0, 1, -1, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1, 1e8, 3e9, 1e8 * 12_345_678, 1_796_227_685_159];
    numbers.push(1_796_227_685_159_000, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 2 ** 53 * 3, -1_796_227_685_159, 1.5, 1e21, -1e-7);
    numbers.push(NaN, Infinity, -Infinity);
    for (let i = 0; i < 2000; i++) numbers.push(Math.floor(Math.random() * Number.MAX_SAFE_INTEGER), Math.floor(Math.random() * 2 ** 42));
    for (const n of numbers) expect(jsonNumber(n), String(n)).to.equal(JSON.stringify(n));
  });

  it('writes a header with every field as JSON.stringify does', () => {
    same(headerJson(fullHeader), fullHeader);
    const { id, requestId, status, seq, createdAt, updatedAt } = fullHeader;
    const least: FlowHeader = { id, requestId, status, seq, createdAt, updatedAt };
    expect(headerJson(least)).to.equal(JSON.stringify(least));
  });

  it('writes a stream record with every field as JSON.stringify does', () => {
    same(streamJson(fullStream), fullStream);
    const least: StreamRecord = { state: 'init', attempts: 0, cycles: 0 };
    expect(streamJson(least)).to.equal(JSON.stringify(least));
  });

  it('leaves out fields that are undefined, as JSON.stringify does', () => {
    const r: StreamRecord = {
      state: 'running',
      attempts: 1,
      cycles: 0,
      phase: undefined,
      startedAt: 5,
      history: [{ attempt: 1, phase: 'flow', startedAt: 5, endedAt: undefined }],
    };
    expect(streamJson(r)).to.equal(JSON.stringify(r));
    expect(streamsJson({ a: r, b: undefined as unknown as StreamRecord })).to.equal(JSON.stringify({ a: r }));
  });

  it('escapes a value outside its enumeration instead of writing it bare', () => {
    const odd = { state: 'x"}', attempts: 0, cycles: 0 } as unknown as StreamRecord;
    same(streamJson(odd), odd);
  });

  it('writes stream records by id, ids escaped', () => {
    const streams = { '0': fullStream, '0.1.0': { state: 'success', attempts: 1, cycles: 0 }, 'we"ird': { state: 'init', attempts: 0, cycles: 0 } } as const;
    same(streamsJson(streams), streams);
    expect(streamsJson({})).to.equal('{}');
  });

  it('throws where JSON.stringify throws: a value JSON cannot hold', () => {
    const h = { ...fullHeader, reqInfo: { n: 1n } } as unknown as FlowHeader;
    expect(() => headerJson(h)).to.throw(TypeError);
  });
});
