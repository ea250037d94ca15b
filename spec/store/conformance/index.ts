// The store conformance suite: every Store implementation runs it with one factory.
//   storeConformance({ name: 'LevelStore', factory: async () => ({ store, reopen, cleanup }) })
import { lifecycle } from './lifecycle.js';
import { queue } from './queue.js';
import { records } from './records.js';
import { transitions } from './transitions.js';
import type { StoreFactory } from './types.js';

export type { StoreFactory, StoreFixture } from './types.js';

/**
 * `persistent`: the store keeps data across close and reopen. `shared`: many openers may use the
 * same data at once (PostgreSQL); otherwise a persistent store locks it against a second opener.
 */
export function storeConformance(opts: { name: string; factory: StoreFactory; persistent: boolean; shared?: boolean }): void {
  describe(`${opts.name} (store conformance)`, () => {
    records(opts.factory);
    transitions(opts.factory);
    queue(opts.factory);
    lifecycle(opts.factory, opts.persistent, opts.shared ?? false);
  });
}
