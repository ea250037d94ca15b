// The order-and-client rivers: create a client in one service and an order in another, both
// retried with backoff, and an Atlantic that records the outcome.
import { z } from 'zod';
import { Atlantic, FatalError, River, type FlowError, type Headwaters, type RiverAttr } from 'vastflow';
import { clientService, orderService } from './services.js';

export class CreateClientRiver extends River {
  static riverName = 'CreateClient';
  static input = z.object({ customer: z.object({ email: z.email(), name: z.string() }) });

  update(attr: RiverAttr) {
    attr.retryTimes = 4;
    attr.retryInterval = '50ms';
    attr.retryBackoff = 2;
    attr.timeout = '2s';
    attr.durable = true;
  }

  async flow(hw: Headwaters) {
    // the requestId makes the call idempotent: a retry or a resumed flow gets the same client
    hw.put('clientId', await clientService.create(`${hw.requestId}/client`));
  }
}

export class CreateOrderRiver extends River<{ currency: string }> {
  static riverName = 'CreateOrder';
  static input = z.object({ clientId: z.string(), items: z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })).min(1) });

  update(attr: RiverAttr) {
    attr.retryTimes = 4;
    attr.retryInterval = '50ms';
    attr.retryBackoff = 2;
    attr.durable = true;
  }

  async flow(hw: Headwaters) {
    if (this.config?.currency !== 'EUR') throw new FatalError(`unsupported currency ${this.config?.currency}`);
    hw.put('orderId', await orderService.create(`${hw.requestId}/order`));
  }
}

/** What the Atlantic recorded, for the example to print and the tests to read. */
export const outcomes: Array<{ requestId: string; status: 'success' | 'fail'; detail: string }> = [];

export class RecordOutcome extends Atlantic {
  async success(hw: Headwaters) {
    outcomes.push({ requestId: hw.requestId, status: 'success', detail: `order ${hw.getString('orderId')} for ${hw.getString('clientId')}` });
  }

  async fail(hw: Headwaters, error: FlowError) {
    outcomes.push({ requestId: hw.requestId, status: 'fail', detail: `${error.code} in ${error.river ?? 'the flow'}: ${error.message}` });
  }
}

export const orderClasses = [CreateClientRiver, CreateOrderRiver, RecordOutcome];
