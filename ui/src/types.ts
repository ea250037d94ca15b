// The JSON the admin server answers with (see API.md Part 2, "Operators"). The UI declares its
// own copy of these shapes: it reaches the engine only through the admin API, never its code
// (spec/types/ui-types.test-d.ts checks at compile time that what the engine answers still fits them).

export interface FlowError {
  code: string;
  message: string;
  attempts?: number;
  cause?: unknown;
  compensation?: Array<{ river: string; code: string; message: string }>;
}

export interface HistoryEntry {
  attempt: number;
  phase: 'flow' | 'cycle' | 'compensate';
  startedAt: number;
  endedAt?: number;
  error?: FlowError;
}

export interface StreamSnapshot {
  id: string;
  kind: string;
  name: string;
  color: string;
  state: string;
  attempts: number;
  cycles: number;
  startedAt?: number;
  endedAt?: number;
  dueAt?: number;
  errors: FlowError[];
  error?: FlowError;
  history: HistoryEntry[];
  choice?: string;
  /** A river's compensation, once it began. */
  compensation?: { state: string; attempts: number; startedAt: number; endedAt?: number; dueAt?: number; error?: FlowError };
}

/** A blueprint stream: only the shape of the drawing matters here (its other fields are shown as JSON); other kinds are drawn as one box. */
export type BlueprintStream = {
  river?: string;
  fork?: string;
  parallel?: BlueprintStream[][];
  basin?: { streams: BlueprintStream[] };
  branches?: Record<string, BlueprintStream[]>;
  /** A Dam's message name (null: a durable sleep); drawn as one box. */
  dam?: string | null;
};

export interface FlowSnapshot {
  id: string;
  requestId: string;
  status: string;
  headwaters: unknown;
  error?: FlowError;
  createdAt: number;
  updatedAt: number;
  streams: StreamSnapshot[];
  /** The whole blueprint is shown as JSON; only its streams are read. */
  blueprint: { streams: BlueprintStream[] };
  atlantic?: { hook: string; done: boolean; error?: FlowError };
  pendingCancel?: { reason: string };
  mermaid?: string;
}

export interface FlowSummary {
  id: string;
  requestId: string;
  status: string;
  createdAt: number;
  updatedAt: number;
}

export interface WorkerInfo {
  id: string;
  heartbeatAt: number;
  running: number;
}

/** The flow statuses, in the order the list shows their counts. */
export const FLOW_STATUSES = ['waiting', 'running', 'success', 'fail', 'cancelled'] as const;
