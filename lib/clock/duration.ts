/**
 * A duration: milliseconds as a number, or a string such as `'500ms'`, `'2s'`, `'5m'`, `'1h'`,
 * `'7d'`. Every duration vastflow takes is at most {@link MAX_DURATION_MS} (3650 days).
 */
export type Duration = number | string;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * The longest duration an attribute or option takes: 3650 days (ten years of 365 days). Longer
 * ones are rejected, naming the field, rather than overflowing a timer.
 */
export const MAX_DURATION_MS = 3650 * 86_400_000;

/** What a field's message says a duration may be. */
export const DURATION_FORMS = "milliseconds (>= 0) or a duration such as '500ms', '2s', '5m', '1h', '7d'";

/** What a field's message says when a duration is longer than {@link MAX_DURATION_MS}. */
export const DURATION_MAX = "at most '3650d' (10 years)";

/**
 * Milliseconds of a duration, or undefined when it is not one (negative, not finite, an unknown
 * unit). Callers turn undefined into the error that names their field, and check the maximum.
 */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION.exec(value.trim());
  if (m === null) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
