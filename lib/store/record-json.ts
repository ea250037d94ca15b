import { FlowStatus, StreamState, type FlowHeader, type HistoryEntry, type StreamRecord } from './records.js';

/*
 * The JSON of the records a store writes at every step (flow headers and stream records), written
 * field by field. It parses to what JSON.stringify gives for the same record, in about half of its
 * time: JSON.stringify prints a number past 2^31 (every timestamp and seq) through V8's
 * double-to-shortest conversion, about 0.2 µs each, and a W1 flow writes some 25 of them. Here such
 * an integer is printed as two small ones. The values a user gives (reqInfo, errors, choices, keys)
 * still go through JSON.stringify, which escapes them and throws on what JSON cannot hold.
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
  let s = `{"id":${JSON.stringify(h.id)},"requestId":${JSON.stringify(h.requestId)},"status":${quoted(h.status)},"seq":${jsonNumber(h.seq)},"createdAt":${jsonNumber(h.createdAt)},"updatedAt":${jsonNumber(h.updatedAt)}`;
  if (h.reqInfo !== undefined) s += `,"reqInfo":${JSON.stringify(h.reqInfo)}`;
  if (h.error !== undefined) s += `,"error":${JSON.stringify(h.error)}`;
  const a = h.atlantic;
  if (a !== undefined) {
    s += `,"atlantic":{"outcome":${quoted(a.outcome)},"done":${a.done}`;
    if (a.error !== undefined) s += `,"error":${JSON.stringify(a.error)}`;
    s += '}';
  }
  if (h.cancelReason !== undefined) s += `,"cancelReason":${JSON.stringify(h.cancelReason)}`;
  if (h.dueAt !== undefined) s += `,"dueAt":${jsonNumber(h.dueAt)}`;
  return s + '}';
}

function historyJson(e: HistoryEntry): string {
  let s = `{"attempt":${jsonNumber(e.attempt)},"phase":${quoted(e.phase)},"startedAt":${jsonNumber(e.startedAt)}`;
  if (e.endedAt !== undefined) s += `,"endedAt":${jsonNumber(e.endedAt)}`;
  if (e.error !== undefined) s += `,"error":${JSON.stringify(e.error)}`;
  return s + '}';
}

/** A stream record's JSON. */
export function streamJson(r: StreamRecord): string {
  let s = `{"state":${quoted(r.state)},"attempts":${jsonNumber(r.attempts)},"cycles":${jsonNumber(r.cycles)}`;
  if (r.dueAt !== undefined) s += `,"dueAt":${jsonNumber(r.dueAt)}`;
  if (r.phase !== undefined) s += `,"phase":${quoted(r.phase)}`;
  if (r.startedAt !== undefined) s += `,"startedAt":${jsonNumber(r.startedAt)}`;
  if (r.endedAt !== undefined) s += `,"endedAt":${jsonNumber(r.endedAt)}`;
  if (r.errors !== undefined) s += `,"errors":${JSON.stringify(r.errors)}`;
  if (r.error !== undefined) s += `,"error":${JSON.stringify(r.error)}`;
  if (r.history !== undefined) {
    s += ',"history":[';
    for (let i = 0; i < r.history.length; i++) s += (i === 0 ? '' : ',') + historyJson(r.history[i]!);
    s += ']';
  }
  if (r.choice !== undefined) s += `,"choice":${JSON.stringify(r.choice)}`;
  if (r.touched !== undefined) s += `,"touched":${JSON.stringify(r.touched)}`;
  if (r.completion !== undefined) s += `,"completion":${jsonNumber(r.completion)}`;
  if (r.compensation !== undefined) s += `,"compensation":${JSON.stringify(r.compensation)}`;
  return s + '}';
}

/** Stream records by stream id, as one JSON object. */
export function streamsJson(streams: Readonly<Record<string, StreamRecord>>): string {
  let s = '{';
  for (const sid in streams) {
    const r = streams[sid];
    if (r !== undefined) s += (s.length === 1 ? '' : ',') + JSON.stringify(sid) + ':' + streamJson(r);
  }
  return s + '}';
}
