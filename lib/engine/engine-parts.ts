import type { Clock } from '../clock/clock.js';
import type { FlowRunHost } from '../model/flow-run.js';
import type { Store } from '../store/store.js';
import type { Admission } from './admission.js';
import type { PlanCache } from './plan-cache.js';
import type { Registry } from './registry.js';
import type { Worker } from './worker.js';
import type { WriteQueue } from './write-queue.js';

/** What the engine's parts (starts, commands) share of it: its store, queue, window and worker. */
export interface EngineParts {
  readonly store: Store;
  readonly queue: WriteQueue;
  readonly registry: Registry;
  /** The plans of the drawings the engine compiled, shared by the flows drawn alike. */
  readonly plans: PlanCache;
  readonly admission: Admission;
  readonly worker: Worker;
  readonly clock: Clock;
  /** What the FlowRuns handed out call back. */
  readonly runHost: FlowRunHost;
}
