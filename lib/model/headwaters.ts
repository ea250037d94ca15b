import { nanoid } from 'nanoid';
import { VastflowError, misuse } from '../errors/vastflow-error.js';
import { describeValue } from './describe-value.js';
import { cloneJson, frozenJsonCopy, illFormed, PROTO_KEY, type Json, type JsonObject } from './json.js';

/** Keys set and deleted since some point: a checkpoint delta or a basin's changes. */
export interface HeadwatersDelta {
  set: JsonObject;
  del: string[];
}

/** The values of every Headwaters that has none yet: shared and never written, replaced on the first put. */
const NO_VALUES: Map<string, Json> = new Map();

/** Where a Headwaters takes its signal from: the flow's runner, or a basin copy's parent. */
export interface SignalSource {
  readonly signal: AbortSignal;
}

/** What the engine may do to a Headwaters that user code may not. */
export interface HeadwatersInternals {
  /** The flow's signal, made on first use: most flows never read it. */
  setSignal(hw: Headwaters<any>, source: SignalSource): void;
  /** Keys changed since the last call (for a checkpoint); clears the record. */
  drainDirty(hw: Headwaters<any>): HeadwatersDelta | undefined;
  /** Every key, as a delta (for a full checkpoint). */
  full(hw: Headwaters<any>): HeadwatersDelta;
  /** An isolated copy for a basin: same requestId, reqInfo, signal and transient values. */
  isolatedCopy(hw: Headwaters<any>): Headwaters<any>;
  /** A basin copy rebuilt from its checkpointed values and the keys it had touched. */
  restoredCopy(hw: Headwaters<any>, values: JsonObject, touched: string[]): Headwaters<any>;
  /** Keys a basin copy set or deleted since it was made. */
  touched(hw: Headwaters<any>): HeadwatersDelta;
  /** Applies a delta taken from the store or from a finished basin. */
  apply(hw: Headwaters<any>, delta: HeadwatersDelta, markDirty: boolean): void;
  /** Values read back from the store, trusted as JSON. */
  load(hw: Headwaters<any>, values: JsonObject): void;
}

/** Engine-only operations on a Headwaters (not exported from the package), filled in by the class. */
export const internals = {} as HeadwatersInternals;

/**
 * The flow's context: a JSON map shared by the rivers of one flow, plus transient values that
 * are never persisted. Values are checked and copied on `put`, and frozen: change a value by
 * putting a new one.
 * @typeParam T the shape of the map, e.g. `interface Order { id: string; qty?: number }`.
 * @example
 * const hw = new Headwaters<{ vmName: string; size?: number }>('order-42').put('vmName', 'my-vm');
 */
export class Headwaters<T extends object = Record<string, Json>> {
  readonly #requestId: string;
  /** NO_VALUES until the first value is stored: a parked flow that stored none keeps no map. */
  #values = NO_VALUES;
  /** Transient values, made on first use; a basin copy shares its parent's. */
  #tmp: Map<string, unknown> | undefined;
  #dirty: Set<string> | undefined;
  #touched: Set<string> | undefined;
  #reqInfo: Json | undefined;
  /** Asked for the signal on each read of `signal` (the source keeps it): one field less in every parked flow. */
  #signalSource: SignalSource | undefined;

  /**
   * @param requestId the flow's idempotency key; omitted → a fresh nanoid.
   * @throws VastflowError E_INVALID_ARGUMENT when requestId is empty, not a string, or not well-formed
   * text (a lone UTF-16 surrogate).
   */
  constructor(requestId?: string) {
    if (requestId === undefined) requestId = nanoid();
    else if (typeof requestId !== 'string' || requestId.trim() === '') {
      throw new VastflowError('E_INVALID_ARGUMENT', `Headwaters: requestId must be a non-empty string, got ${JSON.stringify(requestId)}`);
    } else {
      const why = illFormed(requestId);
      if (why !== undefined)
        throw new VastflowError('E_INVALID_ARGUMENT', `Headwaters: requestId ${JSON.stringify(requestId)} is not well-formed text: ${why}`);
    }
    this.#requestId = requestId;
  }

  /**
   * The flow's idempotency key: starting a flow with a requestId the store holds returns that flow.
   * Read-only: a getter, so an assignment fails (throws TypeError in strict code).
   */
  get requestId(): string {
    return this.#requestId;
  }

  /** The stored value, or undefined. The value is frozen: put a new one to change it. */
  get<K extends keyof T & string>(key: K): T[K] | undefined {
    return this.#values.get(key) as T[K] | undefined;
  }

  /** The value when it is a string, else `''`. */
  getString(key: keyof T & string): string {
    const v = this.#values.get(key);
    return typeof v === 'string' ? v : '';
  }

  /** The value when it is a finite number, else undefined. */
  getNumber(key: keyof T & string): number | undefined {
    const v = this.#values.get(key);
    return typeof v === 'number' ? v : undefined;
  }

  /**
   * Stores a copy of a JSON value under `key`. Chainable. The value may nest 256 levels deep and
   * has no `__proto__` keys.
   * @throws VastflowError E_NOT_SERIALIZABLE naming the key and the path of the first non-JSON part
   *   (or of a `__proto__` key, or of the level past 256); E_INVALID_ARGUMENT for an empty key, `__proto__`, or a key that is not well-formed text.
   *   The value's type excludes undefined, which is not JSON, even for an optional key: to remove a key, {@link del} it.
   */
  put<K extends keyof T & string>(key: K, value: Exclude<T[K], undefined>): this {
    if (typeof key !== 'string' || key === '') {
      throw new VastflowError('E_INVALID_ARGUMENT', `Headwaters.put: key must be a non-empty string, got ${describeValue(key)}`);
    }
    if (key === PROTO_KEY) {
      throw new VastflowError(
        'E_INVALID_ARGUMENT',
        `Headwaters.put: the key "${PROTO_KEY}" is not allowed: as a property of the headwaters' JSON it would set the prototype`,
      );
    }
    const why = illFormed(key);
    if (why !== undefined) throw new VastflowError('E_INVALID_ARGUMENT', `Headwaters.put: the key ${JSON.stringify(key)} is not well-formed text: ${why}`);
    this.#own().set(key, frozenJsonCopy(value, `headwaters key "${key}"`));
    this.#mark(key);
    return this;
  }

  /** True when `key` holds a value. */
  has(key: keyof T & string): boolean {
    return this.#values.has(key);
  }

  /** Removes `key`. Chainable. */
  del(key: keyof T & string): this {
    if (this.#values.delete(key)) this.#mark(key);
    return this;
  }

  /** The keys that hold values. */
  keys(): Array<keyof T & string> {
    return [...this.#values.keys()] as Array<keyof T & string>;
  }

  /** A plain-object snapshot (a deep copy) of the map. */
  toJSON(): T {
    const out: JsonObject = {};
    for (const [k, v] of this.#values) out[k] = cloneJson(v);
    return out as T;
  }

  /**
   * Stores a transient value (a client, a connection): never persisted, not JSON-checked. Chainable.
   * @throws VastflowError E_INVALID_ARGUMENT for an empty key, as {@link put} does.
   */
  tmpPut(key: string, value: unknown): this {
    if (typeof key !== 'string' || key === '') {
      throw misuse(`Headwaters.tmpPut: key must be a non-empty string, got ${describeValue(key)}`);
    }
    (this.#tmp ??= new Map()).set(key, value);
    return this;
  }

  /** A transient value stored with {@link tmpPut}, or undefined. */
  tmpGet<V = unknown>(key: string): V | undefined {
    return this.#tmp?.get(key) as V | undefined;
  }

  /**
   * JSON about the request (who asked, from where), persisted with the flow. Set it to a JSON value
   * (a copy is kept); E_NOT_SERIALIZABLE as for {@link put}.
   */
  get reqInfo(): Json | undefined {
    return this.#reqInfo;
  }

  set reqInfo(value: Json | undefined) {
    this.#reqInfo = value === undefined ? undefined : frozenJsonCopy(value, 'reqInfo');
  }

  /**
   * Aborted when the flow is cancelled or has failed: pass it to long calls. One signal for the
   * Headwaters' life: one read before `start()` is the one the flow aborts.
   */
  get signal(): AbortSignal {
    // read before the flow took this Headwaters: a controller of its own, which the flow's signal
    // aborts once the flow takes it (setSignal)
    return (this.#signalSource ??= new AbortController()).signal;
  }

  /** The values' map, made this Headwaters' own before a write. */
  #own(): Map<string, Json> {
    if (this.#values === NO_VALUES) this.#values = new Map();
    return this.#values;
  }

  #mark(key: string): void {
    (this.#dirty ??= new Set()).add(key);
    this.#touched?.add(key);
  }

  #delta(keys: Iterable<string>): HeadwatersDelta {
    const delta: HeadwatersDelta = { set: {}, del: [] };
    for (const k of keys) {
      const v = this.#values.get(k);
      if (v === undefined) delta.del.push(k);
      else delta.set[k] = v;
    }
    return delta;
  }

  /** A basin's copy: same requestId, reqInfo, transient values and signal; its own values. */
  #basinCopy(touched: Iterable<string>): Headwaters<T> {
    const copy = new Headwaters<T>(this.requestId);
    // made here if need be, so that what the copy's rivers tmpPut, the parent sees
    copy.#tmp = this.#tmp ??= new Map();
    copy.#reqInfo = this.#reqInfo;
    copy.#signalSource = this;
    copy.#touched = new Set(touched);
    return copy;
  }

  static {
    // one shared object of functions, not an object of closures per access: these run per river
    Object.assign(internals, {
      setSignal(hw, source) {
        const early = hw.#signalSource;
        if (!(early instanceof AbortController)) {
          hw.#signalSource = source;
          return;
        }
        // the caller read the signal before start(): it stays the signal, aborted as the flow's is
        const flow = source.signal;
        if (flow.aborted) early.abort(flow.reason);
        else flow.addEventListener('abort', () => early.abort(flow.reason), { once: true });
      },
      drainDirty(hw) {
        if (hw.#dirty === undefined || hw.#dirty.size === 0) return undefined;
        const delta = hw.#delta(hw.#dirty);
        hw.#dirty = undefined;
        return delta;
      },
      full: (hw) => hw.#delta(hw.#values.keys()),
      isolatedCopy(hw) {
        const copy = hw.#basinCopy([]);
        if (hw.#values.size > 0) copy.#values = new Map(hw.#values);
        return copy;
      },
      restoredCopy(hw, values, touched) {
        const copy = hw.#basinCopy(touched);
        internals.load(copy, values);
        return copy;
      },
      touched: (hw) => hw.#delta(hw.#touched ?? []),
      apply(hw, delta, markDirty) {
        for (const [k, v] of Object.entries(delta.set)) {
          hw.#own().set(k, v);
          if (markDirty) hw.#mark(k);
        }
        for (const k of delta.del) {
          if (hw.#values.delete(k) && markDirty) hw.#mark(k);
        }
      },
      load(hw, values) {
        for (const [k, v] of Object.entries(values)) hw.#own().set(k, frozenJsonCopy(v, `stored headwaters key "${k}"`));
      },
    } satisfies HeadwatersInternals);
  }
}
