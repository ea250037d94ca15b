// LevelStore on a real full filesystem (a 2 MiB tmpfs): its first failed write is final.
import { expect } from 'chai';
import path from 'node:path';
import { LevelStore } from '../../lib/store/level-store.js';
import type { FlowChange } from '../../lib/store/records.js';
import { rejects } from '../helpers/stores.js';
import { mountTmpfs, type Tmpfs } from '../helpers/tmpfs.js';
import { created } from './conformance/types.js';

/** A new flow with 8 KiB of headwaters: a few hundred fill the disk. */
const big = (id: string): FlowChange => ({ ...created(id), headwaters: { main: { set: { pad: 'x'.repeat(8192) }, del: [] } } });

describe('LevelStore on a full disk', () => {
  let fsys: Tmpfs | undefined;
  let store: LevelStore | undefined;

  beforeEach(() => {
    fsys = mountTmpfs('2m');
  });

  afterEach(async () => {
    await store?.close().catch(() => {});
    store = undefined;
    fsys?.unmount();
    fsys = undefined;
  });

  it('refuses every write after its first failed one (E_STORE_UNAVAILABLE, cause: that failure), even once there is room', async () => {
    const dir = path.join(fsys!.dir, 'db');
    store = LevelStore.at(dir);
    await store.open();
    fsys!.fill(128 * 1024);
    const acked: string[] = [];
    let first: (Error & { code?: string }) | undefined;
    for (let i = 0; i < 500 && first === undefined; i++) {
      await store.write([big(`f${i}`)]).then(
        () => acked.push(`f${i}`),
        (err: Error) => (first = err),
      );
    }
    expect(first, 'the disk filled up').to.not.equal(undefined);
    expect(first).to.have.property('code', 'E_STORE_UNAVAILABLE');
    expect((first!.cause as { code?: string }).code).to.equal('LEVEL_IO_ERROR');
    expect(acked.length).to.be.greaterThan(0);

    // LevelDB itself would take this write now and drop it at the next open
    fsys!.makeRoom();
    const later = await rejects(store.write([big('late')]));
    expect(later).to.equal(first);
    expect(first!.cause)
      .to.have.property('message')
      .that.matches(/No space left on device/);

    await store.close();
    store = LevelStore.at(dir);
    await store.open();
    for (const id of acked) expect((await store.getFlow(id))?.header.id, id).to.equal(id);
    expect(await store.getFlow('late')).to.equal(undefined);
  });
});
