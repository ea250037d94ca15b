import type { FlowChange, FlowHeader, StreamRecord } from '../../../lib/store/records.js';
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
