// Compile-time check that the web UI's own copy of the admin API's shapes (ui/src/types.ts: the
// UI reaches the engine only through the admin API, never its code) still matches what the engine
// answers with: every value the engine gives must fit the shape the UI reads. A field the engine
// renames or drops, or a type it changes, fails `npm run typecheck`. Nothing here runs.
import type { FlowSnapshot, FlowSummary } from '../../lib/index.js';
import type { WorkerInfo } from '../../lib/store/records.js';
import type * as Ui from '../../ui/src/types.js';

type Fits<Engine, UiShape> = Engine extends UiShape ? true : never;

export const snapshotsFit: Fits<FlowSnapshot, Ui.FlowSnapshot> = true;
export const streamsFit: Fits<FlowSnapshot['streams'][number], Ui.StreamSnapshot> = true;
export const historyFits: Fits<FlowSnapshot['streams'][number]['history'][number], Ui.HistoryEntry> = true;
export const errorsFit: Fits<NonNullable<FlowSnapshot['error']>, Ui.FlowError> = true;
export const summariesFit: Fits<FlowSummary, Ui.FlowSummary> = true;
export const workersFit: Fits<WorkerInfo, Ui.WorkerInfo> = true;
