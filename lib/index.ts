/**
 * vastflow: durable task orchestration for Node.js.
 *
 * Write each operation as a {@link River}, chain rivers into a flow with {@link Andes}, and let the
 * {@link Engine} run it with retries, polling and checkpoints in an embedded LevelDB, resuming it
 * after a crash.
 *
 * @example
 * import { Andes, Engine, Headwaters, River } from 'vastflow';
 * class Hello extends River { async flow(hw: Headwaters) { hw.put('greeting', 'hello'); } }
 * const engine = await Engine.open({ store: 'memory' });
 * const run = await new Andes(engine).drawStream(new Hello()).start();
 * console.log(await run.result()); // { status: 'success', headwaters: { greeting: 'hello' }, ... }
 * await engine.close();
 * @packageDocumentation
 */
export { Andes } from './model/andes.js';
export { Atlantic } from './model/atlantic.js';
export { Basin } from './model/basin.js';
export { Dam, type DamOptions } from './model/dam.js';
export { blueprintJsonSchema, blueprintSchema, type Blueprint, type BlueprintStream } from './model/blueprint.js';
export { toMermaid } from './diagram/mermaid.js';
export { Fork } from './model/fork.js';
export { Headwaters } from './model/headwaters.js';
export type { Json, JsonObject } from './model/json.js';
export { ParallelRiver } from './model/parallel-river.js';
export { riverAttrSchema, type RiverAttr } from './model/river-attr.js';
export type { RiverContext } from './model/river-context.js';
export { River } from './model/river.js';
export type { Stream } from './model/stream.js';

export { Engine } from './engine/engine.js';
export { engineOptionsSchema, type EngineOptions, type WorkerOptions } from './engine/engine-options.js';
export type { EngineEventName, EngineEvents } from './engine/events.js';
export { FlowRun, type FlowOutcome } from './model/flow-run.js';
export type { Registry, RegistrableClass } from './engine/registry.js';
export type { FlowSnapshot, FlowSummary, StreamSnapshot } from './engine/snapshot.js';
export type { StreamKind } from './model/stream-tree.js';
export type { Listener } from './engine/event-bus.js';
export type { PurgeOptions } from './engine/retention.js';
export type { AdminServer, AdminServerOptions } from './admin/admin-server.js';

export { LevelStore, type LevelDatabase, type LevelReadOptions, type LevelSnapshot, type LevelStoreOptions } from './store/level-store.js';
export { PostgresStore, type PostgresStoreOptions } from './store/postgres-store.js';
export {
  FlowStatus,
  StreamState,
  type ChangeEntry,
  type ChangePage,
  type Claim,
  type ClaimQuery,
  type CommandBody,
  type CommandQuery,
  type CompensationRecord,
  type Fence,
  type FlowChange,
  type FlowHeader,
  type FlowQuery,
  type HeadwatersChange,
  type HistoryEntry,
  type PurgeQuery,
  type StoredCommand,
  type StoredFlow,
  type StreamRecord,
  type WorkerBeat,
  type WorkerInfo,
  type WriteResult,
} from './store/records.js';
export type { Store, StoreNotice, StoreOpenOptions, StoreStatus, StoreSupports } from './store/store.js';

export { ErrorCode } from './errors/codes.js';
export { FatalError } from './errors/fatal-error.js';
export type { CompensationFailure, FlowError, FlowErrorCause } from './errors/flow-error.js';
export { VastflowError, isVastflowError } from './errors/vastflow-error.js';

export type { Clock } from './clock/clock.js';
export type { Duration } from './clock/duration.js';
export { ManualClock } from './clock/manual-clock.js';
export { SystemClock } from './clock/system-clock.js';
export type { LogFn, Logger } from './logging/logger.js';
