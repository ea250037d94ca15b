import os from 'node:os';
import { nanoid } from 'nanoid';
import { MAX_TIMER_MS } from '../clock/system-clock.js';
import { VastflowError, isVastflowError } from '../errors/vastflow-error.js';
import type { Logger } from '../logging/logger.js';
import type { Claim, Fence, StoredCommand, WorkerInfo } from '../store/records.js';
import type { Store } from '../store/store.js';

/** What a {@link Worker} asks of its engine. */
export interface WorkerHost {
  readonly store: Store;
  readonly logger: Logger;
  /** The engine's clock, in ms since the epoch: leases and due times are compared with it. */
  now(): number;
  /** Flows the engine runs now. */
  running(): number;
  /** Free places in the window. */
  room(): number;
  /** The classes the engine has registered. */
  classes(): ReadonlySet<string>;
  /** Runs flows just claimed. */
  take(claims: Claim[]): void;
  /** Claims the engine held and lost to another engine: it must stop them without writing. */
  lost(flowIds: string[]): void;
  /** A command for a flow the engine holds. */
  command(command: StoredCommand): void;
  /** Called once per tick, after the heartbeat: the engine checks flows other engines run. */
  tick(): void;
  /** The store has failed every heartbeat for `reconnectForMs`: the engine must stop. */
  unavailable(err: VastflowError): void;
}

/** The worker part of {@link EngineOptions}. */
export interface WorkerSettings {
  id: string;
  leaseMs: number;
  heartbeatMs: number;
  /** How long heartbeats may fail (the database is away) before the engine gives up. */
  reconnectForMs: number;
  /** Listen for other processes' notices (LISTEN/NOTIFY); else look at every heartbeat only. */
  listen: boolean;
  /** How long a closing engine asks a store that does not answer to release its claims (the engine's closeTimeout). */
  leaveForMs: number;
}

/** The first try again after a failed heartbeat or claim; each next one waits twice as long, up to the heartbeat. */
const RETRY_FIRST_MS = 50;

/** The default worker id: the host, the process and a few random characters. */
export function defaultWorkerId(): string {
  return `${os.hostname()}:${process.pid}:${nanoid(6)}`;
}

/**
 * One engine's membership of a shared store: its heartbeat (which keeps its claims alive), its
 * claims and their epochs (which fence its writes), claiming flows when the window has room (the
 * flows of engines whose lease ran out, due flows, waiting ones) and the commands other processes
 * left for its flows. On a store with one engine it keeps only the bookkeeping: nothing else can
 * claim a flow or leave a command while the engine holds the store.
 */
export class Worker {
  readonly id: string;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly #reconnectForMs: number;
  readonly #leaveForMs: number;
  readonly #listen: boolean;
  readonly #host: WorkerHost;
  /** When ticks began to fail (real ms), and how many have failed since, while they do. */
  #failingSince: number | undefined;
  #failures = 0;
  /** The next try after a failed tick, sooner than the heartbeat at first (backoff). */
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #epochs = new Map<string, number>();
  /** Flows this engine creates, claimed by their create while it is in flight: not in the store yet. */
  readonly #creating = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #stopWatch: (() => Promise<void>) | undefined;
  #ticking: Promise<void> | undefined;
  #again = false;
  /** Claiming may find work: set by the timer and by notices, cleared by a claim that did not fill the room. */
  #mayClaim = true;
  /** Commands may wait for this engine's flows: set by the timer and by command notices. */
  #mayCommand = true;
  /** The heartbeat timer asked for this tick: the engine's own checks run too. */
  #timed = false;
  /** The engine's clock when the last heartbeat that landed was sent. */
  #heartbeatAt = 0;
  /** Past this long without a heartbeat that landed, the claims are not sure (see {@link whenClaimsSure}). */
  readonly #unsureMs: number;
  /** What waits for a heartbeat to land, while the claims are not sure. */
  #afterBeat: Array<() => void> | undefined;
  #stopped = false;

  constructor(host: WorkerHost, settings: WorkerSettings) {
    this.#host = host;
    this.id = settings.id;
    this.leaseMs = settings.leaseMs;
    this.heartbeatMs = settings.heartbeatMs;
    this.#reconnectForMs = settings.reconnectForMs;
    this.#leaveForMs = settings.leaveForMs;
    this.#listen = settings.listen;
    // other engines take the claims over `leaseMs` after the last heartbeat: a heartbeat before then
    this.#unsureMs = Math.max(this.leaseMs - this.heartbeatMs, this.leaseMs / 2);
  }

  /**
   * Runs `go` at once, unless this engine's claims are not sure: on a shared store, no heartbeat
   * has landed for most of the lease (the process was paused, starved, or the database was away),
   * so other engines may have taken flows over. Then `go` runs once a heartbeat lands (the claims it
   * reports lost are stopped first) or the worker stops. A woken engine so starts no attempt or
   * poll of a flow it lost: it would run the river again while its new owner runs it too.
   */
  whenClaimsSure(go: () => void): void {
    if (!this.claimsUnsure) return go();
    (this.#afterBeat ??= []).push(go);
    this.poke('timer');
  }

  /**
   * True when this engine's claims are not sure (see {@link whenClaimsSure}): on a shared store,
   * no heartbeat has landed for most of the lease. False on LevelDB and memory.
   */
  get claimsUnsure(): boolean {
    return this.shared && !this.#stopped && this.#host.now() - this.#heartbeatAt >= this.#unsureMs;
  }

  /** Runs what waited for a heartbeat. */
  #flushAfterBeat(): void {
    const waiting = this.#afterBeat;
    this.#afterBeat = undefined;
    if (waiting !== undefined) for (const go of waiting) go();
  }

  /** True on a store that several engines share. */
  get shared(): boolean {
    return this.#host.store.supports.shared === true;
  }

  /** The fence of this engine's claim on the flow, for its writes. */
  fence(flowId: string): Fence | undefined {
    const epoch = this.#epochs.get(flowId);
    return epoch === undefined ? undefined : { owner: this.id, epoch };
  }

  /**
   * Records a claim this engine made, or (`creating`) the claim of a flow it creates, whose row
   * the store does not hold until the create lands (see {@link created}).
   */
  own(flowId: string, epoch: number, creating = false): void {
    // the one engine of a store that cannot be shared owns every flow: nothing to fence or renew,
    // and no entry per flow (a parked flow's memory is W4's budget)
    if (!this.shared) return;
    this.#epochs.set(flowId, epoch);
    if (creating) this.#creating.add(flowId);
  }

  /** The create of a flow this engine owns has landed (or failed): its claim is in the store now. */
  created(flowId: string): void {
    this.#creating.delete(flowId);
  }

  /** Forgets a flow this engine no longer runs. */
  disown(flowId: string): void {
    this.#epochs.delete(flowId);
    this.#creating.delete(flowId);
  }

  /** Flows this engine holds a claim on. */
  get held(): string[] {
    return [...this.#epochs.keys()];
  }

  /** Starts the heartbeat and, on a shared store, listening for other processes' notices. */
  /**
   * Joins the store: on a shared one, first makes sure no live engine goes by this id (E_CONFLICT),
   * then heartbeats.
   */
  async start(): Promise<void> {
    if (this.shared) await this.#takeId();
    await this.#beat();
    if (!this.shared) return;
    if (this.#listen && this.#host.store.watch !== undefined) {
      this.#stopWatch = await this.#host.store.watch((notice) => {
        if (notice.kind === 'runnable') this.poke('runnable');
        else if (this.#epochs.has(notice.flowId)) this.poke('command');
      });
    }
    this.#schedule();
  }

  /**
   * Two engines of one id would share one heartbeat: the live one would keep the claims of a dead
   * one alive, and those flows would never be taken over. An engine of this id whose heartbeat
   * moves on within two of this engine's heartbeats of its last one is alive: the open is refused.
   * One whose heartbeat stands still, or has run out, is an earlier engine of this id that died (a
   * restart with a fixed id): what it held is given back at once, for any engine to take.
   */
  async #takeId(): Promise<void> {
    const beatOf = async (): Promise<number | undefined> => (await this.#host.store.workers(this.#host.now())).find((w) => w.id === this.id)?.heartbeatAt;
    const first = await beatOf();
    if (first !== undefined) {
      // a live engine heartbeats every heartbeat: one last heard of two heartbeats ago or more is
      // dead at once; a later one is watched until two heartbeats have passed since it
      const until = Date.now() + 2 * this.heartbeatMs - Math.max(0, this.#host.now() - first);
      for (let beat: number | undefined = first; beat !== undefined && Date.now() < until; beat = await beatOf()) {
        if (beat !== first) {
          throw new VastflowError(
            'E_CONFLICT',
            `worker.id "${this.id}" is in use: a live engine on this store heartbeats by that id; give each engine its own worker.id (the default is unique)`,
          );
        }
        await new Promise((r) => setTimeout(r, Math.min(this.heartbeatMs / 4, 250)));
      }
    }
    await this.#host.store.leave(this.id);
  }

  /**
   * The next heartbeat tick, jittered by ±10 % so that engines started together do not all hit the
   * database (and reap a dead engine's flows) at the same moment. The timer keeps the process
   * alive, as a server's socket does: an engine on a shared store looks for work until close(),
   * also with `listen: false`, where no LISTEN connection holds the process.
   */
  #schedule(): void {
    if (this.#stopped) return;
    // a timer waits at most 2^31-1 ms (Node runs a longer one after 1 ms): a tick sooner than the heartbeat is harmless
    const ms = Math.min(this.heartbeatMs * (0.9 + 0.2 * Math.random()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      this.poke('timer');
      this.#schedule();
    }, ms);
  }

  /**
   * Runs a tick soon; ticks never overlap. What it does depends on why: at the heartbeat timer
   * everything (heartbeat, commands, claiming, the engine's own checks); on a notice of a runnable
   * flow, claiming; on a command notice, the commands; when a slot frees, claiming only while the
   * last claim filled the room (else there was nothing to take, until a notice or the timer).
   */
  poke(why: 'timer' | 'runnable' | 'command' | 'slot'): void {
    if (this.#stopped) return;
    if (why === 'timer') this.#timed = this.#mayClaim = this.#mayCommand = true;
    else if (why === 'runnable') this.#mayClaim = true;
    else if (why === 'command') this.#mayCommand = true;
    if (this.#ticking !== undefined) {
      this.#again = true;
      return;
    }
    this.#ticking = this.#tick().finally(() => {
      this.#ticking = undefined;
      if (this.#again) {
        this.#again = false;
        this.poke('slot');
      }
    });
  }

  async #tick(): Promise<void> {
    try {
      if (this.#host.now() - this.#heartbeatAt >= this.heartbeatMs / 2) await this.#beat();
      if (this.#mayCommand) {
        this.#mayCommand = false;
        await this.#commands();
      }
      await this.claimRoom();
      if (this.#failingSince !== undefined) {
        this.#host.logger.info({ failures: this.#failures, ms: Date.now() - this.#failingSince }, 'worker: the store answers again');
        this.#failingSince = undefined;
        this.#failures = 0;
      }
      if (this.#timed) {
        this.#timed = false;
        this.#host.tick();
      }
    } catch (err) {
      if (this.#stopped) return;
      if (isVastflowError(err, 'E_CLOSED')) return;
      const since = (this.#failingSince ??= Date.now());
      if (Date.now() - since < this.#reconnectForMs) {
        // the first failure is worth a warning with its cause; the tries after it, only their count
        const n = ++this.#failures;
        if (n === 1)
          this.#host.logger.warn(
            { err },
            `worker: a heartbeat or claim failed; trying again with backoff for up to ${this.#reconnectForMs} ms (worker.reconnectFor)`,
          );
        else this.#host.logger.debug({ failures: n, why: err instanceof Error ? err.message : String(err) }, 'worker: the store still does not answer');
        // 50 ms, doubling up to the heartbeat, which keeps ticking as well
        clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(() => this.poke('timer'), Math.min(RETRY_FIRST_MS * 2 ** (n - 1), this.heartbeatMs, MAX_TIMER_MS));
        this.#retryTimer.unref();
        return;
      }
      const why = err instanceof Error ? err.message : String(err);
      this.#stopped = true;
      this.#host.unavailable(
        new VastflowError('E_STORE_UNAVAILABLE', `the store was unreachable for ${this.#reconnectForMs} ms (worker.reconnectFor): ${why}; the engine closes`, {
          cause: err,
        }),
      );
    }
  }

  async #beat(): Promise<void> {
    const now = this.#host.now();
    // a flow whose create is in flight has no row yet: the store would call it lost
    const held = this.held.filter((id) => !this.#creating.has(id));
    const epochs = new Map(held.map((id) => [id, this.#epochs.get(id)]));
    const beat = await this.#host.store.heartbeat({ id: this.id, now, leaseMs: this.leaseMs, running: this.#host.running(), held });
    this.#heartbeatAt = now;
    // a claim renewed since the heartbeat was sent (the flow ended and was claimed again) is not lost
    const lost = beat.lost.filter((id) => this.#epochs.has(id) && this.#epochs.get(id) === epochs.get(id));
    if (lost.length > 0) {
      for (const id of lost) this.disown(id);
      this.#host.lost(lost);
    }
    if (this.#afterBeat === undefined) return;
    // a heartbeat sent before a pause may land after it: it tells nothing of the claims since
    if (this.#host.now() - this.#heartbeatAt < this.#unsureMs) this.#flushAfterBeat();
    else this.poke('timer');
  }

  /** Claims as many runnable flows as the window has room for, and hands them to the engine. */
  async claimRoom(): Promise<void> {
    const room = this.#host.room();
    if (room <= 0 || this.#stopped || !this.#mayClaim) return;
    // taken before the read: a notice that comes while it is under way sets it again (cleared after the
    // read, the notice of a flow the read did not see yet was lost until the next heartbeat)
    this.#mayClaim = false;
    const claims = await this.#host.store.claim({ owner: this.id, now: this.#host.now(), limit: room, classes: this.#host.classes(), load: true });
    // as many as there was room for: more may wait (fewer: nothing more until a notice or the heartbeat)
    if (claims.length >= room) this.#mayClaim = true;
    this.#adopt(claims);
  }

  /** Claims these flows if no live engine holds them; the ones claimed. */
  async claimIds(ids: readonly string[]): Promise<Claim[]> {
    const claims = await this.#host.store.claim({ owner: this.id, now: this.#host.now(), limit: ids.length, classes: this.#host.classes(), ids });
    for (const c of claims) this.#epochs.set(c.flowId, c.epoch);
    return claims;
  }

  #adopt(claims: Claim[]): void {
    const fresh = claims.filter((c) => {
      const known = this.#epochs.get(c.flowId) === c.epoch;
      this.#epochs.set(c.flowId, c.epoch);
      return !known;
    });
    if (fresh.length > 0) this.#host.take(fresh);
  }

  async #commands(): Promise<void> {
    if (this.#epochs.size === 0) return;
    // the whole inbox of the flows it holds, not what came after the last seq it read: sends at the
    // same time may commit out of seq order, and one of a lower seq would be missed for good (its
    // Dam waited for ever, or took the message sent after it). A runner skips what it has already.
    const commands = await this.#host.store.listCommands({ owner: this.id });
    for (const c of commands) if (this.#epochs.has(c.flowId)) this.#host.command(c);
  }

  /**
   * The engines alive on the store. A store that cannot be shared has one engine, this one, alive
   * while it is open: it heartbeats only at start (nothing can take its flows), so it answers for
   * itself, as of now, rather than from a heartbeat that runs out after the lease.
   */
  workers(): Promise<WorkerInfo[]> {
    if (!this.shared) return Promise.resolve([{ id: this.id, heartbeatAt: this.#host.now(), running: this.#host.running() }]);
    return this.#host.store.workers(this.#host.now());
  }

  /**
   * Gives every claim up. A store that does not answer (an engine closing because the database
   * went away) is asked again, 50 ms later and then twice as long each time, for up to
   * `leaveForMs`: a database back by then frees the flows at once, not when the lease runs out.
   */
  async #leave(): Promise<void> {
    const since = Date.now();
    for (let pause = RETRY_FIRST_MS; ; pause *= 2) {
      try {
        return await this.#host.store.leave(this.id);
      } catch (err) {
        const left = this.#leaveForMs - (Date.now() - since);
        if (!isVastflowError(err, 'E_STORE_UNAVAILABLE') || left <= 0) {
          this.#host.logger.warn({ err }, 'worker: could not release its claims at close; other engines take its flows when its lease runs out');
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(pause, left)));
      }
    }
  }

  /** Stops the heartbeat and gives every claim up, so that other engines take the flows at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    clearTimeout(this.#retryTimer);
    // the engine is closing: what waited goes on to find it closing
    this.#flushAfterBeat();
    await this.#ticking;
    await this.#stopWatch?.().catch(() => undefined);
    await this.#leave();
    this.#epochs.clear();
    this.#creating.clear();
  }
}
