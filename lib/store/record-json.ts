import { FlowStatus, StreamState, type FlowHeader, type HistoryEntry, type StreamRecord } from './records.js';

/*
 * The JSON of the records a store writes at every step (flow headers and stream records), written
 * field by field. It parses to what JSON.stringify gives for the same record, in about half of its
 * time: JSON.stringify prints a number past 2^31 (every timestamp and seq) through V8's
 * double-to-shortest conversion, about 0.2 µs each, and a W1 flow writes some 25 of them. Here such
 * an integer is printed as two small ones. The values a user gives (reqInfo, errors, choices, keys)
 * still go through JSON.stringify, which escapes them and throws on what JSON cannot hold.
 *
 * The pieces are joined once, into a flat string: a string built by `+=` is a rope of small
 * strings, which LevelDB's binding must copy flat again, and which, held in a queued batch while
 * 100,000 flows start (W4), lives long enough to be promoted and to cost the collector more than
 * the printing saves.
 */

/** The values of the records' enumerations, already quoted. */
const QUOTED: Record<string, string> = Object.create(null);
for (const v of [...Object.values(FlowStatus), ...Object.values(StreamState), 'flow', 'retry', 'cycle', 'compensate']) QUOTED[v] = JSON.stringify(v);

const quoted = (s: string): string => QUOTED[s] ?? JSON.stringify(s);

/** Zeros to pad the low eight digits of a large integer. */
const ZEROS = ['', '0', '00', '000', '0000', '00000', '000000', '0000000'];

/** A number as JSON.stringify prints it; a safe integer past 2^31 as two small integers (much faster). */
export function jsonNumber(n: number): string {
  if ((n | 0) === n) return '' + n;
  if (Number.isSafeInteger(n) && n > 0) {
    const hi = Math.floor(n / 1e8);
    const lo = '' + (n - hi * 1e8);
    return hi + ZEROS[8 - lo.length]! + lo;
  }
  return JSON.stringify(n);
}

/** A flow header's JSON. */
export function headerJson(h: FlowHeader): string {
  const p = ['{"id":', JSON.stringify(h.id), ',"requestId":', JSON.stringify(h.requestId), ',"status":', quoted(h.status)];
  p.push(',"seq":', jsonNumber(h.seq), ',"createdAt":', jsonNumber(h.createdAt), ',"updatedAt":', jsonNumber(h.updatedAt));
  if (h.reqInfo !== undefined) p.push(',"reqInfo":', JSON.stringify(h.reqInfo));
  if (h.error !== undefined) p.push(',"error":', JSON.stringify(h.error));
  const a = h.atlantic;
  if (a !== undefined) {
    p.push(',"atlantic":{"outcome":', quoted(a.outcome), a.done ? ',"done":true' : ',"done":false');
    if (a.error !== undefined) p.push(',"error":', JSON.stringify(a.error));
    p.push('}');
  }
  if (h.cancelReason !== undefined) p.push(',"cancelReason":', JSON.stringify(h.cancelReason));
  if (h.dueAt !== undefined) p.push(',"dueAt":', jsonNumber(h.dueAt));
  p.push('}');
  return p.join('');
}

function pushHistory(p: string[], e: HistoryEntry): void {
  p.push('{"attempt":', jsonNumber(e.attempt), ',"phase":', quoted(e.phase), ',"startedAt":', jsonNumber(e.startedAt));
  if (e.endedAt !== undefined) p.push(',"endedAt":', jsonNumber(e.endedAt));
  if (e.error !== undefined) p.push(',"error":', JSON.stringify(e.error));
  p.push('}');
}

function pushStream(p: string[], r: StreamRecord): void {
  p.push('{"state":', quoted(r.state), ',"attempts":', jsonNumber(r.attempts), ',"cycles":', jsonNumber(r.cycles));
  if (r.dueAt !== undefined) p.push(',"dueAt":', jsonNumber(r.dueAt));
  if (r.phase !== undefined) p.push(',"phase":', quoted(r.phase));
  if (r.startedAt !== undefined) p.push(',"startedAt":', jsonNumber(r.startedAt));
  if (r.endedAt !== undefined) p.push(',"endedAt":', jsonNumber(r.endedAt));
  if (r.errors !== undefined) p.push(',"errors":', JSON.stringify(r.errors));
  if (r.error !== undefined) p.push(',"error":', JSON.stringify(r.error));
  if (r.history !== undefined) {
    p.push(',"history":[');
    for (let i = 0; i < r.history.length; i++) {
      if (i > 0) p.push(',');
      pushHistory(p, r.history[i]!);
    }
    p.push(']');
  }
  if (r.choice !== undefined) p.push(',"choice":', JSON.stringify(r.choice));
  if (r.touched !== undefined) p.push(',"touched":', JSON.stringify(r.touched));
  if (r.completion !== undefined) p.push(',"completion":', jsonNumber(r.completion));
  if (r.compensation !== undefined) p.push(',"compensation":', JSON.stringify(r.compensation));
  p.push('}');
}

/** A stream record's JSON. */
export function streamJson(r: StreamRecord): string {
  const p: string[] = [];
  pushStream(p, r);
  return p.join('');
}

/**
 * Stream records by stream id, as one JSON object, appended to `p`: a store that builds a larger
 * JSON around them (a journal entry) joins it once.
 */
export function pushStreams(p: string[], streams: Readonly<Record<string, StreamRecord>>): void {
  p.push('{');
  let first = true;
  for (const sid in streams) {
    const r = streams[sid];
    if (r === undefined) continue;
    p.push(first ? '' : ',', JSON.stringify(sid), ':');
    first = false;
    pushStream(p, r);
  }
  p.push('}');
}
