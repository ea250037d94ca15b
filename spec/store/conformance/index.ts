// The store conformance suite: every Store implementation runs it with one factory.
//   storeConformance({ name: 'LevelStore', factory: async () => ({ store, reopen, cleanup }), persistent: true, shared: false })
import { changeFeed } from './changes.js';
import { commands } from './commands.js';
import { due } from './due.js';
import { lifecycle } from './lifecycle.js';
import { ownership } from './ownership.js';
import { paging } from './paging.js';
import { purge } from './purge.js';
import { queue } from './queue.js';
import { records } from './records.js';
import { transitions } from './transitions.js';
import type { StoreFactory } from './types.js';

export type { StoreFactory, StoreFixture } from './types.js';

/**
 * `persistent`: the store keeps data across close and reopen (and, unless shared, locks it against
 * a second opener). `shared`: several engines may open it at once (`supports.shared`): claims expire, writes are
 * fenced, duplicate creates are refused; otherwise the single-engine behaviour is checked instead.
 * `changes`: it has a change feed (`supports.changes`). Both default to false.
 */
export function storeConformance(opts: { name: string; factory: StoreFactory; persistent: boolean; shared?: boolean; changes?: boolean }): void {
  describe(`${opts.name} (store conformance)`, () => {
    records(opts.factory);
    transitions(opts.factory);
    queue(opts.factory);
    lifecycle(opts.factory, opts.persistent, opts.shared ?? false);
    ownership(opts.factory, opts.shared ?? false);
    due(opts.factory, opts.persistent);
    commands(opts.factory, opts.persistent);
    paging(opts.factory);
    purge(opts.factory);
    if (opts.changes ?? false) changeFeed(opts.factory);
  });
}
