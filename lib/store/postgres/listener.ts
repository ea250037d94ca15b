import pg from 'pg';
import { SystemClock } from '../../clock/system-clock.js';
import type { StoreNotice } from '../store.js';

const clock = new SystemClock();

/**
 * Ends a client's session (which ends its LISTEN too) without waiting long for a connection that
 * carries nothing any more (a partition, a proxy that dropped it): after a second its socket is
 * destroyed.
 */
async function close(client: pg.Client): Promise<void> {
  const timer = new AbortController();
  await Promise.race([client.end().catch(() => undefined), clock.sleep(1_000, timer.signal).catch(() => undefined)]);
  timer.abort();
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/**
 * A dedicated connection that LISTENs on the store's channel and hands each notice on. When its
 * connection drops it connects again, with backoff from 100 ms to 5 s, until it is stopped.
 */
export class Listener {
  readonly #connect: () => pg.Client;
  readonly #channel: string;
  readonly #onNotice: (notice: StoreNotice, pid: number) => void;
  readonly #stop = new AbortController();
  #client: pg.Client | undefined;
  /** A client connecting (and sending its LISTEN), until it listens or fails. */
  #connecting: pg.Client | undefined;
  #running: Promise<void> | undefined;

  constructor(connect: () => pg.Client, channel: string, onNotice: (notice: StoreNotice, pid: number) => void) {
    this.#connect = connect;
    this.#channel = channel;
    this.#onNotice = onNotice;
  }

  /** Resolves once the first LISTEN is in place; rejects when that fails. */
  async start(): Promise<void> {
    const { lost } = await this.#listen();
    this.#running = this.#keep(lost);
  }

  /** Connects and listens; resolves with a promise that settles when the connection is lost. */
  async #listen(): Promise<{ lost: Promise<void> }> {
    const client = this.#connect();
    let onLost!: () => void;
    const lost = new Promise<void>((resolve) => (onLost = resolve));
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (msg) => {
      if (msg.payload === undefined) return;
      let notice: StoreNotice;
      try {
        notice = JSON.parse(msg.payload) as StoreNotice;
      } catch {
        return; // not ours
      }
      this.#onNotice(notice, msg.processId);
    });
    this.#connecting = client;
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#channel}"`);
    } catch (err) {
      // (stop() closed it already when it cut the connect short)
      if (!this.#stop.signal.aborted) await close(client);
      throw err;
    } finally {
      this.#connecting = undefined;
    }
    this.#client = client;
    return { lost };
  }

  async #keep(lost: Promise<void>): Promise<void> {
    const signal = this.#stop.signal;
    for (;;) {
      await Promise.race([lost, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]);
      if (signal.aborted) return;
      const dead = this.#client;
      this.#client = undefined;
      if (dead !== undefined) await close(dead);
      for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
        try {
          await clock.sleep(delay, signal);
        } catch {
          return; // stopped
        }
        try {
          ({ lost } = await this.#listen());
          // a notice sent while no one listened is gone: tell the engine to look once
          this.#onNotice({ kind: 'runnable' }, 0);
          break;
        } catch {
          // the server is still away: try again later
        }
      }
    }
  }

  /**
   * Stops listening: a connect under way is cut short, and the session is ended without waiting
   * for a connection the server no longer answers on (the engine's close must not hang on it:
   * after it come the release of its claims).
   */
  async stop(): Promise<void> {
    this.#stop.abort();
    if (this.#connecting !== undefined) void close(this.#connecting);
    await this.#running;
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) await close(client);
  }
}
