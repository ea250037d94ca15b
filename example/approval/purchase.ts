// The purchase flow of the approval example: ask a manager, wait for the decision at a Dam (at
// most a few seconds here; days in real life), then place the order, or reject it.
import { Andes, Dam, Fork, Headwaters, River, type Engine } from 'vastflow';

export class RequestApproval extends River {
  static riverName = 'Purchase.RequestApproval';
  async flow(hw: Headwaters) {
    console.log(`  ${hw.requestId}: approval requested for ${hw.getNumber('amount')} EUR`);
  }
}

export class PlaceOrder extends River {
  static riverName = 'Purchase.PlaceOrder';
  async flow(hw: Headwaters) {
    const decision = hw.get('decision') as { by: string };
    hw.put('orderId', `po-${hw.requestId}`);
    console.log(`  ${hw.requestId}: approved by ${decision.by}, order po-${hw.requestId} placed`);
  }
}

export class Reject extends River {
  static riverName = 'Purchase.Reject';
  async flow(hw: Headwaters) {
    console.log(`  ${hw.requestId}: rejected`);
  }
}

/** Approved or rejected, by the decision the Dam put into the headwaters. */
export class Decided extends Fork {
  static riverName = 'Purchase.Decided';
  choose(hw: Headwaters) {
    return (hw.get('decision') as { ok: boolean }).ok ? 'approved' : 'rejected';
  }
}

export const classes = [RequestApproval, PlaceOrder, Reject, Decided];

export function purchase(engine: Engine, requestId: string, amount: number) {
  return new Andes(engine)
    .drawHeadwaters(new Headwaters(requestId).put('amount', amount))
    .drawStream(new RequestApproval())
    .drawStream(new Dam('approval', { timeout: '3s', key: 'decision' }))
    .drawStream(new Decided().branch('approved', new PlaceOrder()).branch('rejected', new Reject()));
}
