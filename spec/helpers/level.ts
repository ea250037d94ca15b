import { Level } from 'level';
import type { LevelDatabase } from '../../lib/store/level-store.js';

/** The operations of one LevelDB batch. */
export type BatchOps = Parameters<LevelDatabase['batch']>[0];

/**
 * A real LevelDB directory whose every batch goes through `batch` (which writes it with `write`):
 * for specs that count, inspect or interrupt the store's writes.
 */
export function hookedLevel(dir: string, batch: (ops: BatchOps, write: () => Promise<void>) => Promise<void>): LevelDatabase {
  const db = new Level<string, string>(dir, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
  return {
    get status() {
      return db.status;
    },
    open: () => db.open(),
    close: () => db.close(),
    get: (k) => db.get(k),
    getMany: (keys) => db.getMany(keys),
    iterator: (o) => db.iterator(o),
    batch: (ops, o) => batch(ops, () => db.batch(ops, o ?? {})),
  };
}
