import type { FlowSnapshot, FlowSummary } from '../engine/snapshot.js';
import type { WorkerInfo } from '../store/records.js';

// C1 controls (U+009B is CSI in a terminal that takes 8-bit controls), the bidi controls (U+202E
// would reverse the rest of a row on a terminal that lays out bidi text) and the line separators
const UNSAFE = '\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
const CONTROL = new RegExp(`[\\u0000-\\u001f${UNSAFE}]`, 'g');
const CONTROL_BUT_NEWLINE = new RegExp(`[\\u0000-\\u0009\\u000b-\\u001f${UNSAFE}]`, 'g');
/** What JSON.stringify leaves as it is (it escapes U+0000-U+001F itself). */
const UNSAFE_IN_JSON = new RegExp(`[${UNSAFE}]`, 'g');
const escaped = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * Text as a terminal shows it safely: control characters (an escape sequence in a requestId, a
 * newline in an error message, a right-to-left override) as `\u001b`-style escapes, so that output
 * cannot move the cursor, recolour the terminal, reorder a line or forge a row of the table.
 */
export const printable = (text: string): string => text.replace(CONTROL, escaped);

/** {@link printable} for a message on its own lines (stderr): its newlines kept. */
export const printableLines = (text: string): string => text.replace(CONTROL_BUT_NEWLINE, escaped);

/**
 * `value` as indented JSON that is as safe on a terminal: the characters {@link printable} escapes
 * are `\uXXXX` escapes inside its strings (the same JSON to a parser).
 */
export const printableJson = (value: unknown): string => JSON.stringify(value, null, 2).replace(UNSAFE_IN_JSON, escaped);

const time = (ms: number | undefined): string => (ms === undefined ? '-' : new Date(ms).toISOString());

/** Rows as columns padded to their widest cell, with a header row. */
export function table(head: string[], rows: string[][]): string {
  rows = rows.map((r) => r.map(printable));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}

export function flowsTable(flows: FlowSummary[]): string {
  if (flows.length === 0) return 'no flows\n';
  return table(
    ['ID', 'REQUEST ID', 'STATUS', 'CREATED', 'UPDATED'],
    flows.map((f) => [f.id, f.requestId, f.status, time(f.createdAt), time(f.updatedAt)]),
  );
}

export function workersTable(workers: WorkerInfo[]): string {
  if (workers.length === 0) return 'no live engines\n';
  return table(
    ['ID', 'HEARTBEAT', 'RUNNING'],
    workers.map((w) => [w.id, time(w.heartbeatAt), String(w.running)]),
  );
}

/** A flow's status, headwaters and streams. */
export function flowDetail(s: FlowSnapshot): string {
  const out = [
    `id:          ${s.id}`,
    `requestId:   ${s.requestId}`,
    `status:      ${s.status}`,
    `created:     ${time(s.createdAt)}`,
    `updated:     ${time(s.updatedAt)}`,
  ];
  if (s.error !== undefined) out.push(`error:       ${s.error.code}: ${s.error.message}${s.error.river === undefined ? '' : ` (river ${s.error.river})`}`);
  if (s.pendingCancel !== undefined) out.push(`cancel:      asked (${s.pendingCancel.reason}), not carried out yet`);
  if (s.atlantic !== undefined)
    out.push(
      `atlantic:    ${s.atlantic.hook} ${s.atlantic.done ? 'done' : 'to run'}${s.atlantic.error === undefined ? '' : ` (threw ${s.atlantic.error.message})`}`,
    );
  out.push(`headwaters:  ${JSON.stringify(s.headwaters)}`, '');
  for (let i = 0; i < out.length; i++) out[i] = printable(out[i]!);
  const rows = s.streams.map((st) => [
    st.id,
    st.kind,
    st.name,
    st.state,
    String(st.attempts),
    String(st.cycles),
    time(st.startedAt),
    time(st.endedAt),
    st.error === undefined
      ? st.errors.length === 0
        ? ''
        : `${st.errors.length} failed attempt(s); last: ${st.errors[st.errors.length - 1]!.message}`
      : `${st.error.code}: ${st.error.message}`,
  ]);
  return out.join('\n') + '\n' + table(['STREAM', 'KIND', 'NAME', 'STATE', 'ATTEMPTS', 'CYCLES', 'STARTED', 'ENDED', 'ERROR'], rows);
}
