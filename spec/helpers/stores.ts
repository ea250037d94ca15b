// Shared by the composition and engine-API specs: the two stores every store-dependent behaviour
// runs on, and a few small promise helpers. Everything here goes through the public API only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import {
  Andes,
  Atlantic,
  Engine,
  type ClaimQuery,
  type CommandBody,
  type CommandQuery,
  type EngineOptions,
  type FlowChange,
  type FlowError,
  type FlowQuery,
  type FlowRun,
  type Headwaters,
  LevelStore,
  type StoredCommand,
  type Store,
  type Stream,
  type WorkerBeat,
} from '../../lib/index.js';

/** A logger that prints nothing. */
export const silent = pino({ level: 'silent' });

/** Where an engine keeps its flows: `store` for Engine.open, and how to remove it afterwards. */
export interface StoreLocation {
  /** A path or URL, or a new Store on the location for each engine (a PostgresStore on a schema). */
  store: string | (() => Store);
  dispose(): void | Promise<void>;
}

/** One kind of store the engine runs on. */
export interface StoreKind {
  name: string;
  /** True when a flow survives closing the engine (a second engine on the location sees it). */
  persistent: boolean;
  /** A fresh, empty location. */
  location(): StoreLocation;
}

/** The in-memory store and LevelDB in a fresh temp dir. */
export const STORE_KINDS: readonly StoreKind[] = [
  { name: 'memory store', persistent: false, location: () => ({ store: 'memory', dispose() {} }) },
  {
    name: 'LevelDB store',
    persistent: true,
    location: () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-'));
      return { store: dir, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  },
];

/** Opens engines on one store kind inside a describe; see {@link useEngines}. */
export interface EngineHarness {
  /**
   * Opens an engine on this test's location (the same one for every call in a test), with a silent
   * logger; `options` add to or override that. Closed after the test.
   */
  open(options?: EngineOptions): Promise<Engine>;
  /** This test's location as `open()` gives it to an engine: a path or URL, or a new Store on it. */
  store(): string | Store;
}

/**
 * Registers hooks in the current describe: each test gets a fresh location of `kind`; after it,
 * every engine opened through the harness is closed, then the location is removed.
 */
export function useEngines(kind: StoreKind): EngineHarness {
  let location: StoreLocation | undefined;
  const engines: Engine[] = [];
  beforeEach(() => {
    location = kind.location();
  });
  afterEach(async () => {
    for (const engine of engines.splice(0)) await engine.close();
    await location?.dispose();
    location = undefined;
  });
  const store = (): string | Store => {
    if (location === undefined) throw new Error('useEngines: open() and store() are for tests and their hooks');
    return typeof location.store === 'string' ? location.store : location.store();
  };
  return {
    async open(options: EngineOptions = {}) {
      // a short close grace: a test that fails with an attempt still hanging must not stall the suite
      const engine = await Engine.open({ store: store(), logger: silent, closeTimeout: 200, ...options });
      engines.push(engine);
      return engine;
    },
    store,
  };
}

/**
 * The real `store` with some of its methods replaced (they call the real ones through `store`), its
 * other members its own: a proxy rather than a subclass, since a store's private fields need the
 * real instance as `this`.
 */
export function overriding(store: Store, methods: Partial<Store>): Store {
  return new Proxy(store, {
    get(target, key) {
      if (Object.hasOwn(methods, key)) return methods[key as keyof Store];
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Runs `define` once per store kind, inside a describe named after the kind. */
export function forEachStore(define: (kind: StoreKind) => void): void {
  for (const kind of STORE_KINDS) describe(`on the ${kind.name}`, () => define(kind));
}

/** The rejection of `promise` (throws when it resolves instead). */
export async function rejects(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** What `fn` throws (throws when it returns instead). */
export function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a throw, but the call returned');
}

/** A promise with its resolve exposed: a one-shot latch. */
export interface Latch {
  readonly promise: Promise<void>;
  readonly released: boolean;
  release(): void;
}

export function latch(): Latch {
  let release!: () => void;
  let released = false;
  const promise = new Promise<void>((r) => (release = r));
  return {
    promise,
    get released() {
      return released;
    },
    release() {
      released = true;
      release();
    },
  };
}

/**
 * Resolves with `promise`, or rejects after `ms` of real time naming `what`: a river that waits on
 * a latch fails instead of hanging when the latch is never released.
 */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms}ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A barrier for `parties`: `arrive()` resolves once all of them have arrived, or rejects after
 * `ms`, so parties that do not run at the same time fail instead of hanging.
 */
export function barrier(parties: number, ms = 1000): { arrive(): Promise<void> } {
  let arrived = 0;
  const all = latch();
  return {
    arrive() {
      arrived++;
      if (arrived === parties) all.release();
      return within(all.promise, ms, `all ${parties} parties at the barrier`);
    },
  };
}

/** Resolves once `signal` has aborted; rejects after `ms`. */
export function aborted(signal: AbortSignal, ms = 1000): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return within(new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true })), ms, 'the abort');
}

/** Real time passing, in ms. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `check()` holds; rejects after `ms` of real time. */
export async function until(check: () => boolean | Promise<boolean>, ms = 2000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`until: ${what} did not hold within ${ms}ms`);
    await sleep(2);
  }
}

/** Starts a flow of `streams` on `engine` (with `hw` and `atlantic` when given); resolves once it is recorded. */
export function startFlow(engine: Engine, streams: Stream[], hw?: Headwaters<any>, atlantic?: Atlantic): Promise<FlowRun> {
  const andes = new Andes(engine).drawStream(...streams);
  if (hw !== undefined) andes.drawHeadwaters(hw);
  if (atlantic !== undefined) andes.drawAtlantic(atlantic);
  return andes.start();
}

/** Starts a flow of `streams` on `engine` and waits for its outcome. */
export async function runToEnd(engine: Engine, streams: Stream[], hw?: Headwaters<any>, atlantic?: Atlantic) {
  const flow = await startFlow(engine, streams, hw, atlantic);
  return { id: flow.id, outcome: await flow.result() };
}

/**
 * A store that passes everything to `inner` and keeps a copy of every group of changes it is asked
 * to write; it can be told to fail writes, or to hold them until release().
 */
export class RecordingStore implements Store {
  readonly writes: FlowChange[][] = [];
  failWith: Error | undefined;
  /** While set, writes wait until release() is called. */
  holding = false;
  readonly #held: Array<() => void> = [];
  constructor(readonly inner: Store) {}
  /** Lets the held writes go. */
  letGo(): void {
    for (const go of this.#held.splice(0)) go();
  }
  get status() {
    return this.inner.status;
  }
  get supports() {
    return this.inner.supports;
  }
  open() {
    return this.inner.open();
  }
  close() {
    return this.inner.close();
  }
  write(changes: readonly FlowChange[]) {
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    this.writes.push(structuredClone([...changes]));
    if (!this.holding) return this.inner.write(changes);
    return new Promise<void>((go) => this.#held.push(go)).then(() => this.inner.write(changes));
  }
  listDue(now: number, limit: number) {
    return this.inner.listDue(now, limit);
  }
  claim(q: ClaimQuery) {
    return this.inner.claim(q);
  }
  release(owner: string, ids: readonly string[]) {
    return this.inner.release(owner, ids);
  }
  heartbeat(beat: WorkerBeat) {
    return this.inner.heartbeat(beat);
  }
  workers(now: number) {
    return this.inner.workers(now);
  }
  leave(owner: string) {
    return this.inner.leave(owner);
  }
  addCommand(flowId: string, body: CommandBody, at: number) {
    return this.inner.addCommand(flowId, body, at);
  }
  listCommands(q?: CommandQuery) {
    return this.inner.listCommands(q);
  }
  getFlow(id: string) {
    return this.inner.getFlow(id);
  }
  findFlowId(r: string) {
    return this.inner.findFlowId(r);
  }
  listFlows(q?: FlowQuery) {
    return this.inner.listFlows(q);
  }
  listUnfinished() {
    return this.inner.listUnfinished();
  }
  listWaiting() {
    return this.inner.listWaiting();
  }
}

/**
 * An Atlantic that records which hook ran and the errors `fail()` got; given a log, it also writes
 * `atlantic success` / `atlantic fail` there, to order the hook against the rivers' entries.
 */
export class RecordingAtlantic extends Atlantic {
  calls: string[] = [];
  errors: FlowError[] = [];
  constructor(private readonly log?: string[]) {
    super();
  }
  success() {
    this.calls.push('success');
    this.log?.push('atlantic success');
  }
  fail(_hw: Headwaters, error: FlowError) {
    this.calls.push('fail');
    this.errors.push(error);
    this.log?.push('atlantic fail');
  }
}

/** The commands a LevelDB directory holds, read through a LevelStore opened for the call (no engine may hold the directory). */
export async function levelCommands(dir: string, query?: CommandQuery): Promise<StoredCommand[]> {
  const store = LevelStore.at(dir);
  await store.open();
  try {
    return await store.listCommands(query);
  } finally {
    await store.close();
  }
}
