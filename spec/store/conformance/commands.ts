import { expect } from 'chai';
import type { CommandBody } from '../../../lib/store/records.js';
import { beat, created, header, rejection, useStore, type StoreFactory } from './types.js';

const BODIES: CommandBody[] = [
  { kind: 'cancel', reason: 'operator said so' },
  { kind: 'cancel' },
  { kind: 'redrive' },
  { kind: 'message', name: 'approve', payload: { by: 'ü', levels: [1, 2.5, { deep: true }], none: null } },
  { kind: 'message', name: 'ping', payload: null },
];

export function commands(factory: StoreFactory, persistent: boolean): void {
  describe('commands', () => {
    const fx = useStore(factory);

    it('stores nothing for a flow the store does not hold, and resolves undefined', async () => {
      const { store } = fx();
      await store.write([created('a')]);
      expect(await store.addCommand('nope', { kind: 'redrive' }, 10)).to.equal(undefined);
      expect(await store.listCommands()).to.deep.equal([]);
      expect(await store.listCommands({ flowId: 'nope' })).to.deep.equal([]);
    });

    it('takes commands for an ended flow too (a redrive asks for one)', async () => {
      const { store } = fx();
      await store.write([created('a')]);
      await store.write([{ flowId: 'a', header: header('a', { status: 'fail' }) }]);
      const added = await store.addCommand('a', { kind: 'redrive' }, 10);
      expect(added).to.deep.include({ flowId: 'a', at: 10, body: { kind: 'redrive' } });
      expect(await store.listCommands({ flowId: 'a' })).to.deep.equal([added]);
    });

    it('gives commands increasing seqs across flows, and lists them in seq order', async () => {
      const { store } = fx();
      await store.write([created('a'), created('b')]);
      const a1 = await store.addCommand('a', { kind: 'cancel', reason: 'r' }, 10);
      const b1 = await store.addCommand('b', { kind: 'redrive' }, 11);
      const a2 = await store.addCommand('a', { kind: 'message', name: 'm', payload: 1 }, 12);
      expect(a1).to.deep.equal({ seq: a1!.seq, flowId: 'a', at: 10, body: { kind: 'cancel', reason: 'r' } });
      expect(b1).to.deep.equal({ seq: b1!.seq, flowId: 'b', at: 11, body: { kind: 'redrive' } });
      expect(a1!.seq).to.be.lessThan(b1!.seq);
      expect(b1!.seq).to.be.lessThan(a2!.seq);
      expect(await store.listCommands()).to.deep.equal([a1, b1, a2]);
    });

    it('lists the commands of one flow, and those after a seq', async () => {
      const { store } = fx();
      await store.write([created('a'), created('b')]);
      const a1 = await store.addCommand('a', { kind: 'redrive' }, 10);
      const b1 = await store.addCommand('b', { kind: 'redrive' }, 11);
      const a2 = await store.addCommand('a', { kind: 'redrive' }, 12);
      expect(await store.listCommands({ flowId: 'a' })).to.deep.equal([a1, a2]);
      expect(await store.listCommands({ after: a1!.seq })).to.deep.equal([b1, a2]);
      expect(await store.listCommands({ flowId: 'a', after: a1!.seq })).to.deep.equal([a2]);
      expect(await store.listCommands({ after: a2!.seq })).to.deep.equal([]);
    });

    it('lists only the commands of the kinds asked for', async () => {
      const { store } = fx();
      await store.write([created('a')]);
      const cancel = await store.addCommand('a', { kind: 'cancel', reason: 'r' }, 10);
      await store.addCommand('a', { kind: 'message', name: 'go', payload: 1 }, 11);
      const redrive = await store.addCommand('a', { kind: 'redrive' }, 12);
      expect(await store.listCommands({ kinds: ['cancel', 'redrive'] })).to.deep.equal([cancel, redrive]);
      expect(await store.listCommands({ flowId: 'a', kinds: ['redrive'] })).to.deep.equal([redrive]);
      expect((await store.listCommands({ kinds: ['message'] })).map((c) => c.body.kind)).to.deep.equal(['message']);
    });

    it('lists for an owner only the commands of the flows it has claimed', async () => {
      const { store } = fx();
      await store.write([created('a'), created('b')]);
      await beat(store, 'A', 100);
      await store.claim({ owner: 'A', now: 100, limit: 10, ids: ['a'] });
      const a1 = await store.addCommand('a', { kind: 'redrive' }, 10);
      await store.addCommand('b', { kind: 'redrive' }, 11);
      const a2 = await store.addCommand('a', { kind: 'redrive' }, 12);
      expect(await store.listCommands({ owner: 'A' })).to.deep.equal([a1, a2]);
      expect(await store.listCommands({ owner: 'A', after: a1!.seq })).to.deep.equal([a2]);
      expect(await store.listCommands({ owner: 'B' })).to.deep.equal([]);
      await store.release('A', ['a']);
      expect(await store.listCommands({ owner: 'A' })).to.deep.equal([]);
    });

    it('removes the consumed commands, exactly those, with the rest of the change', async () => {
      const { store } = fx();
      await store.write([created('a'), created('b')]);
      const a1 = await store.addCommand('a', { kind: 'cancel' }, 10);
      const b1 = await store.addCommand('b', { kind: 'redrive' }, 11);
      const a2 = await store.addCommand('a', { kind: 'redrive' }, 12);
      await store.write([{ flowId: 'a', consumed: [a1!.seq], header: header('a', { cancelReason: 'asked', updatedAt: 2000 }) }]);
      expect(await store.listCommands()).to.deep.equal([b1, a2]);
      expect((await store.getFlow('a'))?.header).to.deep.equal(header('a', { cancelReason: 'asked', updatedAt: 2000 }));
    });

    it('keeps the consumed commands when the write fails', async () => {
      const { store } = fx();
      await store.write([created('a')]);
      const a1 = await store.addCommand('a', { kind: 'cancel' }, 10);
      const bad = { flowId: 'x', header: header('x', { reqInfo: { n: 1n } as never }) };
      const err = await rejection(store.write([{ flowId: 'a', consumed: [a1!.seq], header: header('a', { updatedAt: 2000 }) }, bad]));
      expect(err).to.be.instanceOf(Error);
      expect(await store.listCommands()).to.deep.equal([a1]);
      expect((await store.getFlow('a'))?.header.updatedAt).to.equal(1000);
    });

    it('keeps every kind of command body as it was given', async () => {
      const { store } = fx();
      await store.write([created('a')]);
      const added = [];
      for (const [i, body] of BODIES.entries()) added.push(await store.addCommand('a', body, i));
      expect(added.map((c) => c?.body)).to.deep.equal(BODIES);
      expect((await store.listCommands({ flowId: 'a' })).map((c) => c.body)).to.deep.equal(BODIES);
    });

    if (!persistent) return;

    it('keeps commands across close and reopen, and numbers later ones above them', async () => {
      const { store, reopen } = fx();
      if (reopen === undefined) throw new Error('a persistent store fixture must give reopen()');
      await store.write([created('a')]);
      const added = [];
      for (const [i, body] of BODIES.entries()) added.push(await store.addCommand('a', body, i));
      await store.close();
      const again = reopen();
      await again.open();
      try {
        expect(await again.listCommands()).to.deep.equal(added);
        const later = await again.addCommand('a', { kind: 'redrive' }, 99);
        expect(later!.seq).to.be.greaterThan(added.at(-1)!.seq);
      } finally {
        await again.close();
      }
    });
  });
}
