// The rivers every engine of the cluster example registers: one flow reserves stock, charges the
// card and ships the order; each step takes a moment, like a call to another service.
import { River, type Headwaters, type RiverAttr } from 'vastflow';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ReserveStock extends River {
  static riverName = 'Cluster.ReserveStock';
  async flow(hw: Headwaters) {
    await pause(40);
    hw.put('reserved', true);
  }
}

export class ChargeCard extends River {
  static riverName = 'Cluster.ChargeCard';
  update(attr: RiverAttr) {
    attr.retryTimes = 3;
    attr.retryInterval = '50ms';
  }
  async flow(hw: Headwaters) {
    await pause(40);
    hw.put('chargeId', `ch-${hw.requestId}`);
  }
}

export class ShipOrder extends River {
  static riverName = 'Cluster.ShipOrder';
  async flow(hw: Headwaters) {
    await pause(40);
    hw.put('shipped', true);
  }
}

export const classes = [ReserveStock, ChargeCard, ShipOrder];
