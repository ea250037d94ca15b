// The VM-and-volume flow: create a VM and a volume in parallel, each polled until ACTIVE, then
// attach them. The rivers and the Atlantic are plain classes; the flow is drawn with Andes.
import { Andes, Atlantic, Headwaters, ParallelRiver, River, type Engine, type FlowError, type RiverAttr, type RiverContext } from 'vastflow';
import { cloud } from './fake-cloud.js';

export class CreateVmRiver extends River<{ region: string }> {
  static riverName = 'CreateVm';

  update(attr: RiverAttr) {
    attr.retryTimes = 3;
    attr.retryInterval = '200ms';
    attr.retryBackoff = 2;
    attr.cycleTimes = 20;
    attr.cycleInterval = '100ms';
    attr.durable = true;
  }

  async flow(hw: Headwaters, ctx: RiverContext) {
    const vmId = await cloud.create('vm', `${hw.getString('vmName')}@${this.config?.region ?? 'eu-1'}`);
    hw.put('vmId', vmId);
    ctx.log.info({ vmId }, 'vm requested');
  }

  async cycle(hw: Headwaters) {
    return (await cloud.status(hw.getString('vmId'))) === 'ACTIVE';
  }
}

export class CreateVolumeRiver extends River {
  update(attr: RiverAttr) {
    attr.retryTimes = 3;
    attr.cycleTimes = 20;
    attr.cycleInterval = '100ms';
    attr.durable = true;
  }

  async flow(hw: Headwaters) {
    hw.put('volumeId', await cloud.create('volume', `${hw.getString('vmName')}-data`));
  }

  async cycle(hw: Headwaters) {
    return (await cloud.status(hw.getString('volumeId'))) === 'ACTIVE';
  }
}

export class AttachVolumeRiver extends River {
  update(attr: RiverAttr) {
    attr.retryTimes = 2;
    attr.retryInterval = '100ms';
    attr.durable = true;
  }

  async flow(hw: Headwaters) {
    await cloud.attach(hw.getString('volumeId'), hw.getString('vmId'));
    hw.put('attached', true);
  }
}

export class AttachVolAtlantic extends Atlantic {
  async success(hw: Headwaters) {
    console.log(`atlantic: success, ${hw.getString('volumeId')} attached to ${hw.getString('vmId')}`);
  }

  async fail(_hw: Headwaters, error: FlowError) {
    console.log(`atlantic: fail, ${error.code}: ${error.message}`);
  }
}

/** Every class the flow draws, for engines that recover it. */
export const classes = [CreateVmRiver, CreateVolumeRiver, AttachVolumeRiver, AttachVolAtlantic];

/** Draws the flow for one VM. */
export function vmVolumeFlow(engine: Engine | undefined, requestId: string, vmName: string): Andes {
  return new Andes(engine)
    .drawHeadwaters(new Headwaters(requestId).put('vmName', vmName))
    .drawStream(new ParallelRiver().append(new CreateVmRiver({ region: 'eu-1' })).append(new CreateVolumeRiver()))
    .drawStream(new AttachVolumeRiver())
    .drawAtlantic(new AttachVolAtlantic());
}

/** Prints each river's progress. */
export function printProgress(engine: Engine): void {
  engine.on('river:start', (e) => console.log(`  ${e.river}: flow() attempt ${e.attempt}`));
  engine.on('river:retry', (e) => console.log(`  ${e.river}: attempt ${e.attempt} failed (${e.error.message}); retry in ${e.delayMs}ms`));
  engine.on('river:cycle', (e) => console.log(`  ${e.river}: poll ${e.cycle}: ${e.done ? 'ACTIVE' : 'not yet'}`));
  engine.on('river:end', (e) => console.log(`  ${e.river}: ${e.state}`));
}
