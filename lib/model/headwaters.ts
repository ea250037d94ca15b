import { nanoid } from 'nanoid';
import { VastflowError } from '../errors/vastflow-error.js';
import { cloneJson, frozenJsonCopy, type Json, type JsonObject } from './json.js';

/** Keys set and deleted since some point: a checkpoint delta or a basin's changes. */
export interface HeadwatersDelta {
  set: JsonObject;
  del: string[];
}

const NEVER_ABORTED = new AbortController().signal;

/** Engine-only operations on a Headwaters, reached through this symbol (not exported). */
export const internals = Symbol('vastflow.headwaters.internals');

/** What the engine may do to a Headwaters that user code may not. */
export interface HeadwatersInternals {
  /** The flow's signal, made on first use: most flows never read it. */
  setSignal(source: () => AbortSignal): void;
  /** Keys changed since the last call (for a checkpoint); clears the record. */
  drainDirty(): HeadwatersDelta | undefined;
  /** Every key, as a delta (for a full checkpoint). */
  full(): HeadwatersDelta;
  /** An isolated copy for a basin: same requestId, reqInfo, signal and transient values. */
  isolatedCopy(): Headwaters<any>;
  /** A basin copy rebuilt from its checkpointed values and the keys it had touched. */
  restoredCopy(values: JsonObject, touched: string[]): Headwaters<any>;
  /** Keys a basin copy set or deleted since it was made. */
  touched(): HeadwatersDelta;
  /** Applies a delta taken from the store or from a finished basin. */
  apply(delta: HeadwatersDelta, markDirty: boolean): void;
  /** Values read back from the store, trusted as JSON. */
  load(values: JsonObject): void;
}

/**
 * The flow's context: a JSON map shared by the rivers of one flow, plus transient values that
 * are never persisted. Values are checked and copied on `put`, and frozen: change a value by
 * putting a new one.
 * @typeParam T the shape of the map, e.g. `interface Order { id: string; qty?: number }`.
 * @example
 * const hw = new Headwaters<{ vmName: string; size?: number }>('order-42').put('vmName', 'my-vm');
 */
export class Headwaters<T extends object = Record<string, Json>> {
  /** The flow's idempotency key: starting a flow with a requestId the store holds returns that flow. */
  readonly requestId: string;
  readonly #values = new Map<string, Json>();
  /** Transient values: one holder shared with basin copies, its map made on first use. */
  #tmp: { map?: Map<string, unknown> };
  #dirty: Set<string> | undefined;
  #touched: Set<string> | undefined;
  #reqInfo: Json | undefined;
  #signal: AbortSignal | undefined;
  #signalSource: (() => AbortSignal) | undefined;

  /**
   * @param requestId the flow's idempotency key; omitted → a fresh nanoid.
   * @throws VastflowError E_INVALID_ARGUMENT when requestId is empty or not a string.
   */
  constructor(requestId?: string) {
    if (requestId === undefined) requestId = nanoid();
    else if (typeof requestId !== 'string' || requestId.trim() === '') {
      throw new VastflowError('E_INVALID_ARGUMENT', `Headwaters: requestId must be a non-empty string, got ${JSON.stringify(requestId)}`);
    }
    this.requestId = requestId;
    this.#tmp = {};
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
   * Stores a copy of a JSON value under `key`. Chainable.
   * @throws VastflowError E_NOT_SERIALIZABLE naming the key and the path of the first non-JSON part.
   */
  put<K extends keyof T & string>(key: K, value: T[K]): this {
    if (typeof key !== 'string' || key === '') {
      throw new VastflowError('E_INVALID_ARGUMENT', `Headwaters.put: key must be a non-empty string, got ${JSON.stringify(key)}`);
    }
    this.#values.set(key, frozenJsonCopy(value, `headwaters key "${key}"`));
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

  /** Stores a transient value (a client, a connection): never persisted, not JSON-checked. */
  tmpPut(key: string, value: unknown): this {
    (this.#tmp.map ??= new Map()).set(key, value);
    return this;
  }

  /** A transient value stored with {@link tmpPut}, or undefined. */
  tmpGet<V = unknown>(key: string): V | undefined {
    return this.#tmp.map?.get(key) as V | undefined;
  }

  /** JSON about the request (who asked, from where), persisted with the flow. */
  get reqInfo(): Json | undefined {
    return this.#reqInfo;
  }

  set reqInfo(value: Json | undefined) {
    this.#reqInfo = value === undefined ? undefined : frozenJsonCopy(value, 'reqInfo');
  }

  /** Aborted when the flow is cancelled or has failed: pass it to long calls. */
  get signal(): AbortSignal {
    return (this.#signal ??= this.#signalSource?.() ?? NEVER_ABORTED);
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

  /** @internal */
  get [internals](): HeadwatersInternals {
    return {
      setSignal: (source) => {
        this.#signal = undefined;
        this.#signalSource = source;
      },
      drainDirty: () => {
        if (this.#dirty === undefined || this.#dirty.size === 0) return undefined;
        const delta = this.#delta(this.#dirty);
        this.#dirty = undefined;
        return delta;
      },
      full: () => this.#delta(this.#values.keys()),
      isolatedCopy: () => {
        const copy = new Headwaters<T>(this.requestId);
        for (const [k, v] of this.#values) copy.#values.set(k, v);
        copy.#tmp = this.#tmp;
        copy.#reqInfo = this.#reqInfo;
        copy.#signalSource = () => this.signal;
        copy.#touched = new Set();
        return copy;
      },
      restoredCopy: (values, touched) => {
        const copy = new Headwaters<T>(this.requestId);
        copy[internals].load(values);
        copy.#tmp = this.#tmp;
        copy.#reqInfo = this.#reqInfo;
        copy.#signalSource = () => this.signal;
        copy.#touched = new Set(touched);
        return copy;
      },
      touched: () => this.#delta(this.#touched ?? []),
      apply: (delta, markDirty) => {
        for (const [k, v] of Object.entries(delta.set)) {
          this.#values.set(k, v);
          if (markDirty) this.#mark(k);
        }
        for (const k of delta.del) {
          if (this.#values.delete(k) && markDirty) this.#mark(k);
        }
      },
      load: (values) => {
        for (const [k, v] of Object.entries(values)) this.#values.set(k, frozenJsonCopy(v, `stored headwaters key "${k}"`));
      },
    };
  }
}
