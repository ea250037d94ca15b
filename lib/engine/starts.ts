import { nanoid } from 'nanoid';
import { VastflowError, isVastflowError } from '../errors/vastflow-error.js';
import type { Logger } from '../logging/logger.js';
import { Atlantic } from '../model/atlantic.js';
import { streamsToBlueprint, type Blueprint } from '../model/blueprint.js';
import type { Drawing } from '../model/engine-port.js';
import { FlowRun } from '../model/flow-run.js';
import { internals } from '../model/headwaters.js';
import type { JsonObject } from '../model/json.js';
import { nameOf } from '../model/stream.js';
import { blueprintClasses } from '../model/stream-tree.js';
import { isUnfinished, type FlowHeader } from '../store/records.js';
import { initRecord, prepareStored } from './flow-loader.js';
import { NO_ATLANTIC, type PreparedFlow } from './flow-runner.js';
import type { Compiled } from './plan.js';
import type { EngineParts } from './engine-parts.js';
import type { RegistrableClass } from './registry.js';

const ID_COUNTER_SPAN = 36 ** 3;

/** What starting flows needs of its engine. */
export interface StartsHost extends EngineParts {
  readonly logger: Logger;
  /** @throws VastflowError E_CLOSED once the engine closes. */
  assertOpen(op: string): void;
  /** True when this engine runs the flow, has it queued, or is loading it to run. */
  holds(id: string): boolean;
  /** Runs a flow whose slot is taken. */
  launch(flow: PreparedFlow): void;
}

/**
 * Creating flows: the drawing's plan and blueprint, the flow's id and queue position, its create
 * (which claims it when it runs at once), and the idempotent start, so that one requestId is one
 * flow, even when two engines on a shared store start it at the same moment.
 */
export class Starts {
  readonly #host: StartsHost;
  /** Starts in flight, by requestId: a second start of one awaits the first. */
  readonly #starting = new Map<string, Promise<FlowRun>>();
  /** Creates another engine's concurrent start won (the store said so): the requestId's flow is that one. */
  readonly #duplicates = new Set<string>();
  #lastSeq = 0;
  #idMs = -1;
  #idCount = 0;

  constructor(host: StartsHost) {
    this.#host = host;
  }

  /** A write dropped these creates: their requestId belongs to another flow already. */
  duplicates(ids: readonly string[]): void {
    for (const id of ids) this.#duplicates.add(id);
  }

  /**
   * Starts a drawn flow: once per requestId (a start of a requestId whose flow exists, here or in
   * the store, is that flow's run), running at once when the window has room, else waiting.
   */
  async start(drawing: Drawing): Promise<FlowRun> {
    this.#host.assertOpen('start');
    const compiled = this.#host.plans.compile(drawing.streams);
    const atlantic = drawing.atlantic ?? NO_ATLANTIC;
    for (const cls of compiled.plan.classes) this.#host.registry.add(cls as RegistrableClass);
    if (atlantic.constructor !== Atlantic) this.#host.registry.add(atlantic.constructor as RegistrableClass);
    const requestId = drawing.hw.requestId;
    const pending = this.#starting.get(requestId);
    // a second start of the requestId at the same time: the flow the first one makes, which exists for it
    if (pending !== undefined) return pending.then((run) => new FlowRun(this.#host.runHost, run.id, run.requestId, true));
    const started = this.#create(drawing, compiled, atlantic);
    this.#starting.set(requestId, started);
    try {
      return await started;
    } finally {
      this.#starting.delete(requestId);
    }
  }

  async #create(drawing: Drawing, { plan, instances }: Compiled, atlantic: Atlantic): Promise<FlowRun> {
    const { hw } = drawing;
    // a shared store refuses a second flow of a requestId in the create itself (WriteResult.duplicates):
    // no lookup first, one round trip less per flow
    if (this.#host.store.supports.shared !== true) {
      const existing = await this.#host.store.findFlowId(hw.requestId);
      if (existing !== undefined) return this.#existing(existing, hw.requestId);
    }
    const blueprint: Blueprint = { vastflow: 1, requestId: hw.requestId, headwaters: hw.toJSON() as JsonObject, streams: streamsToBlueprint(drawing.streams) };
    if (hw.reqInfo !== undefined) blueprint.reqInfo = hw.reqInfo;
    if (atlantic.constructor !== Atlantic) blueprint.atlantic = nameOf(atlantic);
    const now = this.#host.clock.now();
    const runNow = this.#host.admission.admit();
    const header: FlowHeader = {
      id: this.#newId(now),
      requestId: hw.requestId,
      status: runNow ? 'running' : 'waiting',
      seq: this.nextSeq(),
      createdAt: now,
      updatedAt: now,
    };
    if (hw.reqInfo !== undefined) header.reqInfo = hw.reqInfo;
    internals.drainDirty(hw);
    const records = plan.nodes.map(initRecord);
    const flow: PreparedFlow = { header, plan, instances, records, hw, scopes: undefined, atlantic };
    const shared = this.#host.store.supports.shared === true;
    if (runNow) this.#host.worker.own(header.id, 1, true);
    try {
      await this.#host.queue.push({
        flowId: header.id,
        create: { blueprint, classes: blueprintClasses(blueprint) },
        header: { ...header },
        headwaters: { main: internals.full(hw) },
      });
      this.#host.worker.created(header.id);
    } catch (err) {
      this.#host.worker.disown(header.id);
      if (runNow) this.#host.admission.release();
      throw err;
    }
    if (this.#duplicates.delete(header.id)) {
      const winner = await this.#host.store.findFlowId(hw.requestId);
      // a write tried again after a lost connection may find its own create already there
      if (winner !== header.id) {
        // another engine started this requestId at the same moment, and its flow is the one
        this.#host.worker.disown(header.id);
        if (runNow) this.#host.admission.release();
        if (winner === undefined) throw new VastflowError('E_STORE_UNAVAILABLE', `start: requestId ${hw.requestId} is taken, yet no flow holds it`);
        return this.#existing(winner, hw.requestId);
      }
    }
    if (runNow) this.#host.launch(flow);
    else if (!shared) this.#host.admission.enqueue(header.id, flow);
    // on a shared store a waiting flow waits in the store, for whichever engine has room first:
    // this one too, at once if a slot freed while its create was written (the claim made then
    // could not see it), else as soon as one frees, not at its next heartbeat
    else this.#host.worker.poke('runnable');
    this.#host.admission.drain();
    return new FlowRun(this.#host.runHost, header.id, header.requestId);
  }

  /**
   * The run of a flow the store already holds for a requestId. An unfinished flow that no runner
   * of this engine holds (opened with `recover: false`, or its class was missing at recovery) is
   * taken to run here; one whose classes this engine lacks is left in the store, as recovery leaves
   * it, with the missing class logged, for an engine that has them.
   */
  async #existing(id: string, requestId: string): Promise<FlowRun> {
    const loading = this.#host.admission.loading(id);
    if (loading !== undefined) await loading; // recovery is loading it: see whether it could
    if (this.#host.store.supports.shared) {
      // whichever engine holds it runs it, or the first with room takes it
      this.#host.worker.poke('runnable');
    } else if (!this.#host.holds(id)) {
      const stored = await this.#host.store.getFlow(id);
      if (stored !== undefined && isUnfinished(stored.header)) {
        let flow: PreparedFlow | undefined;
        try {
          flow = prepareStored(stored, this.#host.registry, this.#host.plans);
        } catch (err) {
          if (!isVastflowError(err, 'E_UNKNOWN_CLASS')) throw err;
          this.#host.logger.error({ err, flowId: id, requestId }, 'start: the flow of this requestId needs a class this engine lacks; it is left in the store');
        }
        if (flow !== undefined && !this.#host.holds(id)) {
          this.#host.admission.enqueue(id, flow);
          this.#host.admission.drain();
        }
      }
    }
    return new FlowRun(this.#host.runHost, id, requestId, true);
  }

  /**
   * A time-sortable id: 9 base-36 digits of ms, a 3-digit counter that orders the flows one process
   * starts within the same ms, and 9 random characters. Past 36^3 flows in one ms, the ms part moves
   * on by one, so the ids of a process always increase.
   */
  #newId(now: number): string {
    const ms = Math.max(0, Math.trunc(now));
    if (ms > this.#idMs) {
      this.#idMs = ms;
      this.#idCount = 0;
    } else if (++this.#idCount === ID_COUNTER_SPAN) {
      this.#idMs++;
      this.#idCount = 0;
    }
    return `${this.#idMs.toString(36).padStart(9, '0')}${this.#idCount.toString(36).padStart(3, '0')}${nanoid(9)}`;
  }

  /** The next position in the waiting queue: ordered across restarts by the clock, within a process by a counter. */
  nextSeq(): number {
    this.#lastSeq = Math.max(this.#lastSeq + 1, this.#host.clock.now() * 1000);
    return this.#lastSeq;
  }
}
