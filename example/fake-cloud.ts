// A stand-in for a cloud API: resources become ACTIVE a few hundred milliseconds after creation.
import { nanoid } from 'nanoid';

export interface Resource {
  id: string;
  kind: 'vm' | 'volume';
  name: string;
  readyAt: number;
  attachedTo?: string;
}

export class FakeCloud {
  readonly #resources = new Map<string, Resource>();

  constructor(readonly readyAfterMs = 300) {}

  async create(kind: Resource['kind'], name: string): Promise<string> {
    const id = `${kind}-${nanoid(8)}`;
    this.#resources.set(id, { id, kind, name, readyAt: Date.now() + this.readyAfterMs });
    return id;
  }

  async status(id: string): Promise<'BUILDING' | 'ACTIVE'> {
    const r = this.#resources.get(id);
    if (r === undefined) throw new Error(`no such resource: ${id}`);
    return Date.now() >= r.readyAt ? 'ACTIVE' : 'BUILDING';
  }

  async attach(volumeId: string, vmId: string): Promise<void> {
    const vol = this.#resources.get(volumeId);
    if (vol === undefined || (await this.status(vmId)) !== 'ACTIVE') throw new Error('cannot attach yet');
    vol.attachedTo = vmId;
  }
}

/** The one cloud the example's rivers talk to. */
export const cloud = new FakeCloud();
