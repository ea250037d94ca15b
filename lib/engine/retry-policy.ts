import type { ResolvedRiverAttr } from '../model/river-attr.js';

/**
 * The wait before the next attempt after attempt `attempt` (1-based) failed: the retry interval
 * times backoff^(attempt-1), capped at the max interval, with `retryJitter` of it drawn at random.
 */
export function nextDelayMs(
  attr: Pick<ResolvedRiverAttr, 'retryIntervalMs' | 'retryBackoff' | 'retryMaxIntervalMs' | 'retryJitter'>,
  attempt: number,
  random: () => number,
): number {
  let delay = attr.retryIntervalMs * Math.pow(attr.retryBackoff, Math.max(0, attempt - 1));
  if (attr.retryMaxIntervalMs !== undefined) delay = Math.min(delay, attr.retryMaxIntervalMs);
  if (!Number.isFinite(delay)) delay = attr.retryMaxIntervalMs ?? Number.MAX_SAFE_INTEGER;
  if (attr.retryJitter > 0) delay = delay * (1 - attr.retryJitter) + delay * attr.retryJitter * random();
  return Math.round(delay);
}
