import { isThenable } from '../util/deferred.js';
import type { Logger } from '../logging/logger.js';
import { misuse } from '../errors/vastflow-error.js';
import { ENGINE_EVENT_NAMES, isEngineEventName, type EngineEventName, type EngineEvents } from './events.js';

/** A listener of one engine event. */
export type Listener<E extends EngineEventName> = (payload: EngineEvents[E]) => void;

/**
 * The engine's events: listeners by event name. A listener that throws is logged and does not stop
 * the others or the flow; payloads are built only when someone listens (see {@link listens}).
 */
export class EventBus {
  readonly #listeners = new Map<EngineEventName, Set<Listener<any>>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** @throws VastflowError E_INVALID_ARGUMENT for an unknown event name or a listener that is no function. */
  on<E extends EngineEventName>(event: E, listener: Listener<E>): void {
    checkSubscription('on', event, listener);
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
  }

  off<E extends EngineEventName>(event: E, listener: Listener<E>): void {
    checkSubscription('off', event, listener);
    this.#listeners.get(event)?.delete(listener);
  }

  /** True when someone listens to `event`. */
  listens(event: EngineEventName): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends EngineEventName>(event: E, payload: EngineEvents[E]): void {
    const set = this.#listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const listener of set) {
      try {
        const returned: unknown = (listener as (p: EngineEvents[E]) => unknown)(payload);
        // an async listener that rejects is logged like one that throws, not left to end the process
        if (isThenable(returned)) {
          Promise.resolve(returned).catch((err: unknown) => this.#logger.error({ err, event }, 'event listener rejected'));
        }
      } catch (err) {
        this.#logger.error({ err, event }, 'event listener threw');
      }
    }
  }
}

function checkSubscription(method: 'on' | 'off', event: unknown, listener: unknown): void {
  if (!isEngineEventName(event)) {
    throw misuse(`engine.${method}: unknown event ${JSON.stringify(String(event))}; the events are ${ENGINE_EVENT_NAMES.join(', ')}`);
  }
  if (typeof listener !== 'function') throw misuse(`engine.${method}('${event}'): the listener must be a function, got ${typeof listener}`);
}
