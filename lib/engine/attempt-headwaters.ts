import { VastflowError } from '../errors/vastflow-error.js';
import { Headwaters } from '../model/headwaters.js';
import type { Json } from '../model/json.js';

/** Whether the call a view was given to may still change the flow. */
export interface AttemptGate {
  /** Set once the engine has abandoned the call (timeout, cancel, close, flow stopped). */
  readonly abandoned: Error | undefined;
  /** The call, for the error message: `river X: flow() attempt 2`. */
  describe(): string;
}

/**
 * The headwaters as one call of `flow()` or `cycle()` sees them: every read and write goes to the
 * flow's (or basin's) headwaters, until the engine abandons the call. From then on `put` and `del`
 * throw E_CANCELLED, so a call that goes on after its timeout or a cancel cannot change the flow
 * that has moved on without it.
 */
export class AttemptHeadwaters<T extends object> extends Headwaters<T> {
  readonly #target: Headwaters<T>;
  readonly #gate: AttemptGate;

  constructor(target: Headwaters<T>, gate: AttemptGate) {
    super(target.requestId);
    this.#target = target;
    this.#gate = gate;
  }

  #check(op: string, key: string): void {
    const why = this.#gate.abandoned;
    if (why === undefined) return;
    throw new VastflowError('E_CANCELLED', `${this.#gate.describe()} was abandoned (${why.message}): its hw.${op}("${key}") has no effect on the flow`);
  }

  override get requestId(): string {
    return this.#target.requestId;
  }

  override get<K extends keyof T & string>(key: K): T[K] | undefined {
    return this.#target.get(key);
  }

  override getString(key: keyof T & string): string {
    return this.#target.getString(key);
  }

  override getNumber(key: keyof T & string): number | undefined {
    return this.#target.getNumber(key);
  }

  override put<K extends keyof T & string>(key: K, value: Exclude<T[K], undefined>): this {
    this.#check('put', key);
    this.#target.put(key, value);
    return this;
  }

  override has(key: keyof T & string): boolean {
    return this.#target.has(key);
  }

  override del(key: keyof T & string): this {
    this.#check('del', key);
    this.#target.del(key);
    return this;
  }

  override keys(): Array<keyof T & string> {
    return this.#target.keys();
  }

  override toJSON(): T {
    return this.#target.toJSON();
  }

  override tmpPut(key: string, value: unknown): this {
    this.#target.tmpPut(key, value);
    return this;
  }

  override tmpGet<V = unknown>(key: string): V | undefined {
    return this.#target.tmpGet<V>(key);
  }

  override get reqInfo(): Json | undefined {
    return this.#target.reqInfo;
  }

  override set reqInfo(value: Json | undefined) {
    this.#check('reqInfo', 'reqInfo');
    this.#target.reqInfo = value;
  }

  override get signal(): AbortSignal {
    return this.#target.signal;
  }
}
