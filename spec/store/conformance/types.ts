import type { Claim, FlowChange, FlowHeader, StreamRecord, WriteResult } from '../../../lib/store/records.js';
import type { Store } from '../../../lib/store/store.js';

export interface StoreFixture {
  /** An opened store. */
  store: Store;
  /** A new, not yet opened store on the same data: for persistent stores only. */
  reopen?: () => Store;
  /** Removes what the fixture made (the store is closed by then). */
  cleanup: () => Promise<void>;
}

export type StoreFactory = () => Promise<StoreFixture>;

export function header(id: string, over: Partial<FlowHeader> = {}): FlowHeader {
  return { id, requestId: `req-${id}`, status: 'running', seq: 1000, createdAt: 1000, updatedAt: 1000, ...over };
}

export function created(id: string, over: Partial<FlowHeader> = {}): FlowChange {
  return {
    flowId: id,
    create: { blueprint: { vastflow: 1, requestId: `req-${id}`, streams: [{ river: 'A' }, { river: 'B', config: { n: 1 } }] } },
    header: header(id, over),
    headwaters: { main: { set: { a: 1 }, del: [] } },
  };
}

export const rec = (over: Partial<StreamRecord> = {}): StreamRecord => ({ state: 'init', attempts: 0, cycles: 0, ...over });

/**
 * `created(id)` for a flow that needs these classes, as the engine would create it: a river of each
 * class in its drawing, and the classes named. Only an engine that registered all of them claims it.
 */
export function needing(classes: string[], change: FlowChange): FlowChange {
  const blueprint = { ...change.create!.blueprint, streams: classes.map((river) => ({ river })) };
  return { ...change, create: { blueprint, classes } };
}

/** What a write answers when it applied every change. */
export const APPLIED: WriteResult = Object.freeze({ fenced: [], duplicates: [] });

/** `owner`'s heartbeat at `now`: keeps its claims alive until `now + leaseMs`. */
export function beat(store: Store, owner: string, now: number, leaseMs = 1000, held: readonly string[] = []): Promise<{ lost: string[] }> {
  return store.heartbeat({ id: owner, now, leaseMs, running: 0, held });
}

/** The ids of the flows claimed. */
export const ids = (claims: readonly Claim[]): string[] => claims.map((c) => c.flowId);

/** `n` flow ids that sort in the order they are made: `f00`, `f01`, … */
export const flowIds = (n: number): string[] => Array.from({ length: n }, (_, i) => `f${String(i).padStart(2, '0')}`);

/** The error a promise rejects with (undefined when it resolves). */
export const rejection = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

/** Opens a fixture and closes and cleans it after the test. */
export function useStore(factory: StoreFactory): () => StoreFixture {
  let fixture: StoreFixture | undefined;
  beforeEach(async () => {
    fixture = await factory();
  });
  afterEach(async () => {
    if (fixture === undefined) return;
    if (fixture.store.status === 'open') await fixture.store.close();
    await fixture.cleanup();
    fixture = undefined;
  });
  return () => fixture!;
}
