// Two fake remote services. Each fails its first calls with 503, as a service restarting would.
import { nanoid } from 'nanoid';

export class FlakyService {
  #calls = 0;
  readonly #records = new Map<string, string>();

  constructor(readonly name: string, readonly failFirst = 2) {}

  /** Creates a record once per idempotency key; a repeated call returns the same id. */
  async create(idempotencyKey: string): Promise<string> {
    this.#calls++;
    if (this.#calls <= this.failFirst) throw new Error(`${this.name}: 503 Service Unavailable`);
    let id = this.#records.get(idempotencyKey);
    if (id === undefined) this.#records.set(idempotencyKey, (id = `${this.name}-${nanoid(6)}`));
    return id;
  }

  get created(): number {
    return this.#records.size;
  }
}

export const clientService = new FlakyService('client');
export const orderService = new FlakyService('order');
