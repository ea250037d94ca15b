/** A duration: milliseconds as a number, or a string such as `'500ms'`, `'2s'`, `'5m'`, `'1h'`. */
export type Duration = number | string;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;

/**
 * Milliseconds of a duration, or undefined when it is not one (negative, not finite, an unknown
 * unit). Callers turn undefined into the error that names their field.
 */
export function durationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION.exec(value.trim());
  if (m === null) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}
