// The rivers guide (docs/rivers.md), runnable: retries with backoff, FatalError, a timeout, a
// poll, an atomic river and an input schema. Run: npx tsx example/guide/rivers.ts
import { z } from 'zod';
import { Andes, Engine, FatalError, Headwaters, River, type RiverAttr, type RiverContext } from 'vastflow';

// --- retries with backoff
export class ChargeCardRiver extends River<{ amountCents: number }> {
  update(attr: RiverAttr) {
    attr.retryTimes = 4; // up to 5 attempts in all
    attr.retryInterval = '20ms'; // wait before the first retry
    attr.retryBackoff = 2; // then 40ms, 80ms, 160ms
    attr.retryMaxInterval = '100ms'; // but never more than 100ms
    attr.retryJitter = 0.2; // 20% of each wait drawn at random
    attr.durable = true;
  }

  async flow(hw: Headwaters, ctx: RiverContext) {
    if (ctx.attempt < 3) throw new Error('payment gateway busy'); // retried
    if (this.config!.amountCents <= 0) throw new FatalError('nothing to charge'); // not retried
    hw.put('chargeId', `ch-${hw.requestId}`);
  }
}

// --- a timeout on each attempt: the attempt fails with E_TIMEOUT and ctx.signal aborts
export class FetchQuoteRiver extends River {
  update(attr: RiverAttr) {
    attr.timeout = '50ms';
    attr.retryTimes = 1;
    attr.retryInterval = 0;
  }

  async flow(hw: Headwaters, ctx: RiverContext) {
    const slow = ctx.attempt === 1 ? 1000 : 5;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, slow);
      ctx.signal.addEventListener('abort', () => (clearTimeout(timer), reject(ctx.signal.reason)));
    });
    hw.put('quote', 42);
  }
}

// --- a poll: flow() starts the work once, cycle() checks until it is done
export class WaitForShipmentRiver extends River {
  update(attr: RiverAttr) {
    attr.cycleTimes = 10; // at most 10 polls, else E_CYCLE_EXHAUSTED
    attr.cycleInterval = '10ms'; // wait before each poll
    attr.durable = true; // checkpoint after flow() and after the cycle
  }

  async flow(hw: Headwaters) {
    hw.put('shipmentId', 'sh-1');
  }

  async cycle(hw: Headwaters, ctx: RiverContext) {
    return ctx.cycle >= 3; // true: done; false: poll again
  }
}

// --- an atomic river runs to its end even when the flow fails or is cancelled meanwhile
export class WriteLedgerRiver extends River {
  update(attr: RiverAttr) {
    attr.atomic = true;
  }

  async flow(hw: Headwaters) {
    hw.put('ledger', 'written');
  }
}

// --- an input schema: checked before flow() runs; a mismatch fails at once with E_INVALID_INPUT
export class SendInvoiceRiver extends River {
  static input = z.object({ email: z.email(), chargeId: z.string() });

  async flow(hw: Headwaters) {
    hw.put('invoiceSent', true);
  }
}

const engine = await Engine.open({ store: 'memory' });
engine.on('river:retry', (e) => console.log(`${e.river}: attempt ${e.attempt} failed, retry in ${e.delayMs}ms`));

const run = await new Andes(engine)
  .drawHeadwaters(new Headwaters('invoice-7').put('email', 'ada@example.com'))
  .drawStream(new ChargeCardRiver({ amountCents: 1200 }), new FetchQuoteRiver(), new WaitForShipmentRiver())
  .drawStream(new WriteLedgerRiver(), new SendInvoiceRiver())
  .start();
const outcome = await run.result();
console.log(outcome.status, outcome.headwaters);

const bad = await new Andes(engine).drawStream(new SendInvoiceRiver()).start();
const failed = await bad.result();
console.log(failed.status, failed.error?.code, failed.error?.message);
await engine.close();
