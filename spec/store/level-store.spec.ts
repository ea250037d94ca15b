import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LevelStore } from '../../lib/store/level-store.js';
import { storeConformance } from './conformance/index.js';

storeConformance({
  name: 'LevelStore on LevelDB',
  persistent: true,
  factory: async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-store-'));
    const store = LevelStore.at(dir);
    await store.open();
    return { store, reopen: () => LevelStore.at(dir), cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  },
});

storeConformance({
  name: 'LevelStore in memory',
  persistent: false,
  factory: async () => {
    const store = LevelStore.memory();
    await store.open();
    return { store, cleanup: async () => {} };
  },
});
