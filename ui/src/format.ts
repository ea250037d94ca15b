// How times, durations, errors and JSON read on the page.

import { bdi } from './dom.js';

/** A time as `2024-05-01 12:00:03.120` in the browser's time zone; '' when absent. */
export function time(ms: number | undefined): string {
  if (ms === undefined) return '';
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** The time of day of `ms`, as `12:00:03.120`. */
export function clock(ms: number): string {
  return time(ms).slice(11);
}

/** A duration as `850 ms`, `12.3 s`, `4 min 5 s`, `3 h 2 min`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** The time from `start` to `end` (or to now while running); '' before it started. */
export function span(start: number | undefined, end: number | undefined): string {
  return start === undefined ? '' : duration((end ?? Date.now()) - start);
}

/** How long ago `ms` was. */
export function ago(ms: number): string {
  return `${duration(Math.max(0, Date.now() - ms))} ago`;
}

/** JSON, indented. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'undefined';
}

/**
 * An error as `E_CODE: message`, for a tooltip or a field of its own: the message between U+2068
 * and U+2069, so that bidi controls in it cannot reorder the text around it.
 */
export function errorText(e: { code: string; message: string }): string {
  return `${e.code}: \u2068${e.message}\u2069`;
}

/** An error as `E_CODE: message` for the page, its message isolated (see bdi). */
export function errorNode(e: { code: string; message: string }): DocumentFragment {
  const f = document.createDocumentFragment();
  f.append(`${e.code}: `, bdi(e.message));
  return f;
}
