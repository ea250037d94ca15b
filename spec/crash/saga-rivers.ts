// Rivers for the compensation crash tests: every flow() and compensate() appends what it does to
// the journal (spec/crash/rivers.ts), which survives a SIGKILL. Env VASTFLOW_CRASH_HANG=comp-<name>
// makes that river's compensate() hang in the child.
import { Atlantic, FatalError, Headwaters, River, type Andes, type FlowError, type RiverAttr, type RiverContext } from '../../lib/index.js';
import { journal, settings } from './rivers.js';

// keeps the event loop alive, as real pending I/O would, until the process is killed
const never = (): Promise<never> => new Promise(() => setInterval(() => {}, 1000));

/** Books `name` in flow(); cancels it in compensate(), failing its first attempt when `flakyMs` is set (then retried after that wait). */
export class Booking extends River<{ name: string; flakyMs?: number }> {
  update(attr: RiverAttr) {
    attr.durable = true;
    attr.retryTimes = 2;
    attr.retryInterval = this.config!.flakyMs ?? 10;
  }
  async flow(hw: Headwaters) {
    const name = this.config!.name;
    journal(`flow ${hw.requestId} ${name}`);
    hw.put(name, `${name}-booked`);
  }
  async compensate(hw: Headwaters, ctx: RiverContext) {
    const name = this.config!.name;
    journal(`comp-start ${hw.requestId} ${name} ${ctx.attempt} ${Date.now()}`);
    if (settings.hang === `comp-${name}`) {
      journal(`hanging ${hw.requestId} comp-${name}`);
      await never();
    }
    if (this.config!.flakyMs !== undefined && ctx.attempt === 1) {
      journal(`comp-fail ${hw.requestId} ${name} ${ctx.attempt}`);
      throw new Error('the service is down');
    }
    journal(`comp-done ${hw.requestId} ${name} ${hw.getString(name)}`);
  }
}

/** Fails at once: the flow's failure that starts the compensations. */
export class Broken extends River {
  async flow(hw: Headwaters) {
    journal(`flow ${hw.requestId} broken`);
    throw new FatalError('no car left');
  }
}

export class SagaEnd extends Atlantic {
  async fail(hw: Headwaters, error: FlowError) {
    journal(`atlantic-fail ${hw.requestId} ${error.code} ${error.compensation?.length ?? 0}`);
  }
}

export const sagaClasses = [Booking, Broken, SagaEnd];

export type SagaScenario = 'saga' | 'saga-retry';

/** Draws the scenario's flow for one requestId. */
export function drawSaga(andes: Andes, scenario: SagaScenario, requestId: string): Andes {
  andes.drawHeadwaters(new Headwaters(requestId)).drawAtlantic(new SagaEnd());
  if (scenario === 'saga') return andes.drawStream(new Booking({ name: 'a' }), new Booking({ name: 'b' }), new Booking({ name: 'c' }), new Broken());
  return andes.drawStream(new Booking({ name: 'a' }), new Booking({ name: 'b', flakyMs: 1500 }), new Broken());
}
