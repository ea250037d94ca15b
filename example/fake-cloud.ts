// A stand-in for a cloud API: a resource becomes ACTIVE a few hundred milliseconds after it was
// created. It keeps no state in memory (the creation time is part of the id), so a process that
// resumes a flow after a crash can still poll what the crashed process created.
import { nanoid } from 'nanoid';

export class FakeCloud {
  constructor(readonly readyAfterMs = 300) {}

  async create(kind: 'vm' | 'volume', name: string): Promise<string> {
    return `${kind}-${Date.now().toString(36)}-${nanoid(6)}-${name.replace(/[^a-z0-9]/gi, '')}`;
  }

  async status(id: string): Promise<'BUILDING' | 'ACTIVE'> {
    const createdAt = parseInt(id.split('-')[1] ?? '', 36);
    if (!Number.isFinite(createdAt)) throw new Error(`no such resource: ${id}`);
    return Date.now() >= createdAt + this.readyAfterMs ? 'ACTIVE' : 'BUILDING';
  }

  async attach(volumeId: string, vmId: string): Promise<void> {
    if ((await this.status(vmId)) !== 'ACTIVE' || (await this.status(volumeId)) !== 'ACTIVE') {
      throw new Error('cannot attach: the vm or the volume is not ACTIVE yet');
    }
  }
}

/** The one cloud the example's rivers talk to. */
export const cloud = new FakeCloud();
