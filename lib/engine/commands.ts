import { VastflowError, isVastflowError } from '../errors/vastflow-error.js';
import type { Logger } from '../logging/logger.js';
import { FlowRun, type FlowOutcome } from '../model/flow-run.js';
import { frozenJsonCopy } from '../model/json.js';
import { isFinal, type FlowChange, type FlowHeader, type StoredCommand } from '../store/records.js';
import { findStored, recordRedrive } from '../store/store.js';
import { deferred } from '../util/deferred.js';
import { isPrepared, type Held } from './admission.js';
import { compensationsRan } from './compensation.js';
import type { EngineParts } from './engine-parts.js';
import { prepareStored, resetForRedrive } from './flow-loader.js';
import type { FlowRunner, PreparedFlow } from './flow-runner.js';
import type { RemoteOutcomes } from './remote-outcomes.js';
import { nextFlow } from './transitions.js';

/** What the commands need of their engine. */
export interface CommandsHost extends EngineParts {
  readonly remote: RemoteOutcomes;
  readonly logger: Logger;
  /** The runner of a flow this engine runs. */
  runner(id: string): FlowRunner | undefined;
  /** True when this engine runs the flow, has it queued, or is loading it to run. */
  holds(id: string): boolean;
  /** False once the engine closes or its store failed. */
  takesWork(): boolean;
  /** True for a client engine (concurrency: 0): it runs no flow, not even a cancelled one's Atlantic.fail. */
  readonly client: boolean;
  /** Runs a flow whose slot is taken. */
  launch(flow: PreparedFlow): void;
  /** A flow ready to run from what the engine held of it, else loaded (undefined, logged, when it cannot be). */
  ready(id: string, held: Held | undefined): Promise<PreparedFlow | undefined>;
  /** The next position in the waiting queue. */
  nextSeq(): number;
}

/** `work`, kept in `under` by `id` until it settles. */
function underWay<T>(under: Map<string, Promise<T>>, id: string, work: Promise<T>): Promise<T> {
  under.set(id, work);
  return work.finally(() => under.delete(id));
}

/**
 * What users and operators ask of flows: cancel, redrive and send, wherever the flow runs (in this
 * engine, in the store with no engine, or in another engine on a shared store, which carries out
 * the command it finds in the flow's inbox), and the commands other processes left in the store.
 */
export class Commands {
  readonly #host: CommandsHost;
  /** Stored commands being carried out (see stored), by seq. */
  readonly #carrying = new Set<number>();
  /** Cancels under way here, by flow id. */
  readonly #cancelling = new Map<string, Promise<void>>();
  /** Redrives under way here, by flow id: a second one at the same time is refused, a cancel waits for it. */
  readonly #redriving = new Map<string, Promise<FlowRun>>();
  /** Redrives under way here whose write the store refused: another engine redrove the flow first. */
  readonly #refused = new Set<string>();
  /** A read of the stored commands is under way; {@link #again}: one more was asked for meanwhile. */
  #busy = false;
  #again = false;
  /** Settles when the purge under way does (see {@link exclusive}). */
  #purging: Promise<void> | undefined;

  constructor(host: CommandsHost) {
    this.#host = host;
  }

  /**
   * Cancels a flow: it stops (atomic rivers finish their branch), its status becomes `cancelled`
   * and Atlantic.fail runs with E_CANCELLED. Resolves once it has ended; a flow that already ended
   * is left as it is.
   * @throws VastflowError E_INVALID_ARGUMENT when there is no such flow.
   */
  cancel(id: string, reason = 'cancelled'): Promise<void> {
    // a second cancel of the flow meanwhile is the first one: one end, one Atlantic.fail
    return this.#cancelling.get(id) ?? underWay(this.#cancelling, id, this.#cancel(id, reason));
  }
  async #cancel(id: string, reason: string): Promise<void> {
    // a cancel asked for while the flow is being redriven here stops the run the redrive starts
    const redriving = this.#redriving.get(id);
    if (redriving !== undefined) await redriving.catch(() => undefined);
    const loading = this.#host.admission.loading(id);
    if (loading !== undefined) await loading; // it is being loaded to run: cancel it once it runs
    const running = this.#host.runner(id);
    if (running !== undefined) {
      running.cancel(reason);
      await running.done();
      // the cancel's record may not have landed: said so rather than resolved (the flow stays as it was)
      const failure = this.#host.queue.failure;
      if (failure !== undefined) throw failure;
      return;
    }
    if (this.#host.admission.queued(id)) {
      const held = this.#host.admission.dequeue(id); // before the load: the window must not start it meanwhile
      const prepared = await this.#host.ready(id, held);
      if (prepared !== undefined) await this.#cancelHere(prepared, reason);
      return;
    }
    const stored = await this.#host.store.getFlow(id);
    if (stored === undefined) throw new VastflowError('E_INVALID_ARGUMENT', `cancel: no flow with id ${id}`);
    if (isFinal(stored.header.status)) return;
    if (this.#host.store.supports.shared) return this.#cancelShared(id, reason);
    const flow = this.#prepareOrUndefined(stored);
    if (flow !== undefined && !this.#host.holds(id)) {
      // an unfinished flow no engine runs (this one was opened with recover: false): it ends here
      await this.#cancelHere(flow, reason);
      return;
    }
    // a flow this engine cannot run (its class is unknown): recorded, honoured by the engine that
    // resumes it; get() shows it as a pending cancel meanwhile
    await this.#host.queue.push({ flowId: id, header: nextFlow(stored.header, { type: 'cancel', reason, at: this.#host.clock.now() }) });
  }
  /**
   * Cancels a flow on a shared store that this engine does not run. When no live engine holds it
   * (it waits, or its engine died), it is claimed here: cancelled here by an engine that runs flows
   * and has its classes, else the cancel is written into the flow for the engine that takes it next
   * (a client engine runs none of it, not even Atlantic.fail). A flow another engine runs gets the
   * cancel as a command, carried out within a heartbeat. Resolves once the flow has ended.
   */
  async #cancelShared(id: string, reason: string): Promise<void> {
    const [claim] = this.#host.takesWork() ? await this.#host.worker.claimIds([id]) : [];
    let recorded = false;
    if (claim !== undefined) {
      const stored = await this.#host.store.getFlow(id);
      if (stored !== undefined && !isFinal(stored.header.status)) {
        const flow = this.#host.client ? undefined : this.#prepareOrUndefined(stored);
        if (flow !== undefined) return this.#cancelHere(flow, reason);
        // the engine that claims it next starts it cancelled: its rivers are skipped, its Atlantic.fail runs there
        await this.#host.queue.push({ flowId: id, header: nextFlow(stored.header, { type: 'cancel', reason, at: this.#host.clock.now() }) });
        recorded = true;
      }
      this.#host.worker.disown(id);
      await this.#host.store.release(this.#host.worker.id, [id]);
      if (stored === undefined || isFinal(stored.header.status)) return;
    }
    if (!recorded) await this.#host.store.addCommand(id, { kind: 'cancel', reason }, this.#host.clock.now());
    const d = deferred<FlowOutcome>(true);
    this.#host.remote.await(id, d);
    await d.promise;
  }
  #prepareOrUndefined(stored: Parameters<typeof prepareStored>[0]): PreparedFlow | undefined {
    try {
      return prepareStored(stored, this.#host.registry, this.#host.plans);
    } catch {
      return undefined;
    }
  }
  /**
   * Runs a flow this engine holds but does not run (waiting, or unowned in the store) to its
   * cancelled end: outside the window, since it runs no river, only its Atlantic.fail.
   */
  async #cancelHere(flow: PreparedFlow, reason: string): Promise<void> {
    flow.header = nextFlow(flow.header, { type: 'cancel', reason, at: this.#host.clock.now(), run: true });
    await this.#host.queue.push({ flowId: flow.header.id, header: flow.header, claimed: true });
    this.#host.admission.force();
    this.#host.launch(flow);
    await this.#host.runner(flow.header.id)?.done();
  }
  /**
   * Resumes a failed flow from the streams that failed; rivers that succeeded are not run again.
   * @throws VastflowError E_INVALID_ARGUMENT when there is no such flow; E_CONFLICT when it has not
   * failed (it runs, waits, succeeded or was cancelled), its compensations ran, or it is being
   * redriven already (by another call here, or by another engine at the same moment).
   */
  redrive(id: string, orRecord = true): Promise<FlowRun> {
    if (this.#redriving.has(id)) {
      return Promise.reject(new VastflowError('E_CONFLICT', `redrive: flow ${id} is being redriven already (by another call of redrive)`));
    }
    // after a purge under way: it may remove the flow (the redrive then finds none)
    const purging = this.#purging;
    const redriven = purging === undefined ? this.#redrive(id, orRecord) : purging.then(() => this.#redrive(id, orRecord));
    return underWay(this.#redriving, id, redriven);
  }
  /**
   * Runs `purge` once the redrives under way here have written, and holds the redrives asked for
   * meanwhile until it is done: a redrive that read a failed flow before the purge removed it would
   * write the flow back in part (its journal without its blueprint), which the store then calls damaged.
   */
  async exclusive<T>(purge: () => Promise<T>): Promise<T> {
    while (this.#purging !== undefined) await this.#purging;
    const run = Promise.allSettled([...this.#redriving.values()]).then(purge);
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    this.#purging = done;
    try {
      return await run;
    } finally {
      if (this.#purging === done) this.#purging = undefined;
    }
  }
  /** `orRecord`: an engine without the flow's classes records the redrive (else E_UNKNOWN_CLASS). */
  async #redrive(id: string, orRecord: boolean): Promise<FlowRun> {
    const stored = this.#host.holds(id) ? undefined : await this.#host.store.getFlow(id);
    if (stored === undefined) {
      if (this.#host.holds(id)) {
        throw new VastflowError(
          'E_CONFLICT',
          `redrive: cannot redrive flow ${id}: it is still running (its rivers, or its Atlantic hook: redrive once flow:end has fired)`,
        );
      }
      throw new VastflowError('E_INVALID_ARGUMENT', `redrive: cannot redrive flow ${id}: there is no such flow`);
    }
    if (stored.header.status !== 'fail') {
      throw new VastflowError('E_CONFLICT', `redrive: only a failed flow can be redriven; flow ${id} is ${stored.header.status}`);
    }
    if (compensationsRan(stored.streams)) {
      // what its rivers did has been undone: running the rest of it would build on nothing
      throw new VastflowError('E_CONFLICT', `redrive: flow ${id} was compensated (its compensations ran); start a new flow instead`);
    }
    let flow: PreparedFlow;
    try {
      flow = prepareStored(stored, this.#host.registry, this.#host.plans);
    } catch (err) {
      // an engine without the flow's classes (a client engine, or on LevelDB this one before a
      // restart that registers them) leaves it to one that has them
      if (!isVastflowError(err, 'E_UNKNOWN_CLASS') || !orRecord) throw err;
      const run = await this.#redriveElsewhere(stored.header);
      const elsewhere = this.#host.store.supports.shared
        ? 'an engine that has its classes carries it out'
        : 'it is carried out once this engine registers the class (engine.register), or by the next engine on this store that does';
      this.#host.logger.warn({ err, flowId: id }, `redrive of flow ${id} recorded, not run: ${elsewhere}`);
      return run;
    }
    const streams = resetForRedrive(flow);
    // on a shared store the redriven flow waits in the store for the first engine with room
    const runNow = !this.#host.store.supports.shared && this.#host.admission.admit();
    const h = (flow.header = nextFlow(flow.header, { type: 'redrive', waiting: !runNow, seq: this.#host.nextSeq(), at: this.#host.clock.now() }));
    const change: FlowChange = { flowId: id, header: h, streams, reopened: true };
    await this.#host.queue.push(change);
    if (this.#refused.delete(id)) {
      // refused because another engine purged it meanwhile, or redrove it
      if ((await this.#host.store.getFlow(id)) === undefined)
        throw new VastflowError('E_INVALID_ARGUMENT', `redrive: cannot redrive flow ${id}: there is no such flow (it was purged)`);
      throw new VastflowError('E_CONFLICT', `redrive: flow ${id} was redriven by another engine at the same moment; it runs once, from that redrive`);
    }
    if (runNow) this.#host.launch(flow);
    else if (this.#host.store.supports.shared) this.#host.worker.poke('runnable');
    else {
      this.#host.admission.enqueue(id, flow);
      this.#host.admission.drain();
    }
    return new FlowRun(this.#host.runHost, id, h.requestId);
  }
  /**
   * Flows a write of this engine's was refused for (fenced): the redrives among them failed. Gives
   * back the others: the flows whose claim the refusal says this engine lost. A refused redrive
   * says nothing of a claim: another redrive came first, and this engine may be running the flow
   * from that one under a claim of its own.
   */
  refused(ids: readonly string[]): string[] {
    const lost: string[] = [];
    for (const id of ids) {
      if (this.#redriving.has(id)) this.#refused.add(id);
      else lost.push(id);
    }
    return lost;
  }
  /**
   * Records a redrive for the engine that has the flow's classes, which carries it out within a
   * heartbeat (on LevelDB: once an engine that registers them opens the store); the run's result()
   * resolves once the redriven flow has ended again.
   */
  async #redriveElsewhere(failed: FlowHeader): Promise<FlowRun> {
    if (!(await recordRedrive(this.#host.store, failed.id, this.#host.clock.now())))
      throw new VastflowError('E_INVALID_ARGUMENT', `redrive: cannot redrive flow ${failed.id}: there is no such flow (it was purged)`);
    this.#host.remote.await(failed.id, deferred<FlowOutcome>(true), failed);
    return new FlowRun(this.#host.runHost, failed.id, failed.requestId);
  }
  /**
   * Sends a message to a flow: it is stored in the flow's inbox before this resolves, and the
   * flow's next Dam of that name takes it (at once if one holds; a message sent before the flow
   * reaches its Dam waits there). Works from any engine on the store.
   * @example
   * await engine.send(flowId, 'approval', { ok: true, by: 'alice' });
   * @throws VastflowError E_INVALID_ARGUMENT (no id, or an empty name), E_NOT_SERIALIZABLE (the
   * payload is not JSON), E_NOT_FOUND (no such flow), E_CONFLICT (the flow has ended).
   */
  async send(idOrRequestId: string, name: string, payload: unknown = null): Promise<void> {
    if (typeof idOrRequestId !== 'string' || idOrRequestId === '') {
      throw new VastflowError('E_INVALID_ARGUMENT', `send: expected a flow id or requestId, got ${JSON.stringify(idOrRequestId)}`);
    }
    if (typeof name !== 'string' || name === '')
      throw new VastflowError('E_INVALID_ARGUMENT', `send: the message name must be a non-empty string, got ${JSON.stringify(name)}`);
    const body = frozenJsonCopy(payload, `send: the payload of message "${name}"`);
    // a flow this engine runs is known without reading it back
    const h = this.#host.runner(idOrRequestId)?.header ?? (await findStored(this.#host.store, idOrRequestId))?.header;
    if (h === undefined) throw new VastflowError('E_NOT_FOUND', `send: no flow "${idOrRequestId}"`);
    if (isFinal(h.status)) {
      throw new VastflowError('E_CONFLICT', `send: flow ${h.id} has ended (${h.status}): a message can only be sent to a flow that waits or runs`);
    }
    const command = await this.#host.store.addCommand(h.id, { kind: 'message', name, payload: body }, this.#host.clock.now());
    if (command === undefined) throw new VastflowError('E_NOT_FOUND', `send: no flow "${idOrRequestId}" (it was purged)`);
    // queued here as it was started: its runner is made from this, without reading the inbox
    const held = this.#host.admission.held(h.id);
    if (held !== undefined && isPrepared(held)) (held.messages ??= []).push(command);
    // loading to run here: it read its inbox, perhaps before this message landed
    const loading = this.#host.admission.loading(h.id);
    if (loading !== undefined) await loading;
    this.#host.runner(h.id)?.deliver(command);
  }
  /** A command another process left for a flow this engine runs. */
  carryOut(c: StoredCommand): void {
    const runner = this.#host.runner(c.flowId);
    if (runner === undefined) return; // being loaded: its inbox is read once it runs
    if (c.body.kind === 'message') return runner.deliver(c); // its Dam consumes it
    if (c.body.kind !== 'cancel') return; // a redrive is of an ended flow
    runner.cancel(c.body.reason ?? 'cancelled');
    void this.#host.queue.push({ flowId: c.flowId, consumed: [c.seq] }).catch(() => undefined);
  }
  /**
   * Carries out the cancel and redrive commands left in the store (by the CLI, or an admin server
   * on the store): at open, after recovery, and at each worker tick. A cancel of a flow this engine
   * holds cancels it; a redrive of a failed flow redrives it; either is consumed once done, or at
   * once when its flow has ended (cancel) or is no longer failed (redrive). Messages are for Dams.
   */
  async stored(): Promise<void> {
    if (!this.#host.takesWork()) return;
    if (this.#busy) {
      // asked while a read is under way, perhaps after it read a command it could not carry out then
      this.#again = true;
      return;
    }
    this.#busy = true;
    try {
      // messages wait in the inbox for their Dams: not read again at every heartbeat
      const redriven = new Set<string>();
      for (const c of await this.#host.store.listCommands({ kinds: ['cancel', 'redrive'] })) {
        if (this.#carrying.has(c.seq) || !this.#host.takesWork()) continue;
        const consume = (): Promise<unknown> => this.#host.queue.push({ flowId: c.flowId, consumed: [c.seq] }).catch(() => undefined);
        // redrives asked for twice (two clicks, two operators) while the flow had failed once are one
        // ask: the flow runs again once, not once more each time it fails again
        if (c.body.kind === 'redrive' && redriven.has(c.flowId)) {
          await consume();
          continue;
        }
        if (c.body.kind === 'redrive') redriven.add(c.flowId);
        if (c.body.kind === 'cancel' && (this.#host.holds(c.flowId) || this.#host.admission.loading(c.flowId) !== undefined)) {
          this.#carrying.add(c.seq);
          void this.cancel(c.flowId, c.body.reason ?? 'cancelled')
            .then(consume, (err: unknown) => this.#host.logger.warn({ err, flowId: c.flowId }, 'a stored cancel failed'))
            .finally(() => this.#carrying.delete(c.seq));
          continue;
        }
        const header = (await this.#host.store.getFlow(c.flowId))?.header;
        if (header === undefined) continue; // gone: its commands went with it
        if (c.body.kind === 'cancel') {
          if (isFinal(header.status)) await consume(); // else: for the engine that runs it
          continue;
        }
        if (header.status === 'fail') {
          try {
            // the recorded redrive itself: an engine without the classes leaves it where it is
            await this.redrive(c.flowId, false);
          } catch (err) {
            // a class this engine lacks: left for an engine that has it
            if (!isVastflowError(err, 'E_CONFLICT')) {
              this.#host.logger.debug({ err, flowId: c.flowId }, 'a stored redrive is left for another engine');
              continue;
            }
          }
        }
        await consume();
      }
    } catch (err) {
      if (this.#host.takesWork()) this.#host.logger.warn({ err }, 'could not read the commands in the store; trying again at the next tick');
    } finally {
      this.#busy = false;
    }
    if (this.#again) {
      this.#again = false;
      await this.stored();
    }
  }
}
