import { isVastflowError } from '../errors/vastflow-error.js';
import type { Logger } from '../logging/logger.js';
import type { StoredFlow } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { Admission } from './admission.js';
import { prepareStored } from './flow-loader.js';
import type { PreparedFlow } from './flow-runner.js';
import type { PlanCache } from './plan-cache.js';
import type { Registry } from './registry.js';

/**
 * Loads a stored flow for running: its drawing through the registry, its records, the messages
 * waiting in its inbox when it has Dams, and the cancels left there for an engine that ran it. Undefined (and an error logged) when it cannot be: a class
 * this engine lacks, a damaged record, or a read that failed leave the flow in the store.
 * `read`: the flow as a claim already read it.
 */
export async function loadFlow(
  store: Store,
  registry: Registry,
  plans: PlanCache,
  logger: Logger,
  id: string,
  read?: StoredFlow,
  /** The claim that read `read` saw no command in the flow's inbox. */
  inboxEmpty = false,
): Promise<PreparedFlow | undefined> {
  try {
    const stored = read ?? (await store.getFlow(id));
    if (stored === undefined) return undefined;
    const flow = prepareStored(stored, registry, plans);
    const dams = flow.plan.nodes.some((n) => n.kind === 'dam');
    // a flow that ran before (recovered, or taken over from an engine that died) may have a cancel
    // left for the engine that ran it, and on a shared store one that waited may have one left by an
    // engine without room or classes (a client engine, the CLI): carried out before any river runs
    if (!inboxEmpty && (dams || stored.header.status === 'running' || store.supports.shared === true)) {
      const inbox = await store.listCommands({ flowId: id });
      // messages sent before the flow reached its Dams, or while no engine ran it
      if (dams) flow.messages = inbox.filter((c) => c.body.kind === 'message');
      const cancels = inbox.filter((c) => c.body.kind === 'cancel');
      if (cancels.length > 0) flow.cancels = cancels;
    }
    return flow;
  } catch (err) {
    if (isVastflowError(err, 'E_UNKNOWN_CLASS')) {
      logger.error(
        { flowId: id, err: err.message },
        'flow left in the store: its drawing names a class this engine does not know; an engine that registers it will resume the flow',
      );
      return undefined;
    }
    if (isVastflowError(err, 'E_STORE_CORRUPT')) {
      logger.error({ flowId: id, err: err.message }, 'flow left in the store: its record is unreadable or inconsistent');
      return undefined;
    }
    // a class whose update() now rejects its attributes, a store read that failed, …
    logger.error({ flowId: id, err }, 'flow left in the store: it could not be rebuilt from its record');
    return undefined;
  }
}

/**
 * Recovery on a store with one engine (LevelDB, memory): queues the store's unfinished flows in the
 * window, the flows that were running first, then the waiting ones in their FIFO order; each is
 * loaded when its turn comes. (On a shared store the worker claims them instead.)
 */
export async function recoverUnfinished(store: Store, logger: Logger, admission: Admission, running: (id: string) => boolean): Promise<void> {
  // a damaged index loses the flows it held, not the engine: recover what the other one lists
  const scan = (list: () => Promise<string[]>, what: string): Promise<string[]> =>
    list().catch((err: unknown) => {
      if (!isVastflowError(err, 'E_STORE_CORRUPT')) throw err;
      logger.error({ err: err.message }, `recovery could not read ${what}; the flows it lists are left in the store (see LevelStore.repair)`);
      return [];
    });
  const waiting = await scan(() => store.listWaiting(), 'the waiting queue');
  const queued = new Set(waiting);
  for (const id of await scan(() => store.listUnfinished(), 'the unfinished flows')) {
    if (!queued.has(id) && !running(id)) admission.enqueue(id);
  }
  for (const id of waiting) admission.enqueue(id);
  admission.drain();
}
