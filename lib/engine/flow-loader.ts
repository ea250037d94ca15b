import { streamsFromBlueprint } from '../model/blueprint.js';
import { Headwaters, internals } from '../model/headwaters.js';
import type { JsonObject } from '../model/json.js';
import type { StoredFlow, StreamRecord } from '../store/records.js';
import { NO_ATLANTIC, type PreparedFlow } from './flow-runner.js';
import { descendants } from './plan.js';
import type { PlanCache } from './plan-cache.js';
import type { Registry } from './registry.js';
import { nextStream } from './transitions.js';

/** A fresh record for a stream that has not started. */
export const initRecord = (): StreamRecord => ({ state: 'init', attempts: 0, cycles: 0 });

/**
 * Rebuilds a stored flow for running: its drawing through the registry (update() runs again),
 * its records, its checkpointed headwaters.
 * @throws VastflowError E_UNKNOWN_CLASS when a drawn class is not registered.
 */
export function prepareStored(stored: StoredFlow, registry: Registry, plans: PlanCache): PreparedFlow {
  const bp = stored.blueprint;
  const { plan, instances } = plans.compile(streamsFromBlueprint(bp.streams, registry));
  const atlantic = bp.atlantic === undefined ? NO_ATLANTIC : new (registry.atlantic(bp.atlantic))();
  const records = plan.nodes.map((n) => stored.streams[n.id] ?? initRecord());
  const hw = new Headwaters(stored.header.requestId);
  internals.load(hw, stored.headwaters['main'] ?? {});
  if (stored.header.reqInfo !== undefined) hw.reqInfo = stored.header.reqInfo;
  let scopes: Record<string, JsonObject> | undefined;
  for (const [scope, values] of Object.entries(stored.headwaters)) if (scope !== 'main') (scopes ??= {})[scope] = values;
  return { header: stored.header, plan, instances, records, hw, scopes, atlantic };
}

/**
 * Resets a failed flow for a redrive: rivers that did not succeed go back to `init` (their error
 * history kept), containers that did not succeed resume, and a fork keeps its recorded choice.
 * Returns the records it changed.
 */
export function resetForRedrive(flow: PreparedFlow): Record<string, StreamRecord> {
  const changed: Record<string, StreamRecord> = {};
  for (const n of flow.plan.nodes) {
    const rec = flow.records[n.index]!;
    const next = nextStream(rec, { type: 'redrive', kind: n.kind });
    if (next === rec) continue;
    flow.records[n.index] = next;
    changed[n.id] = next;
  }
  // branches a fork did not choose stay skipped
  for (const n of flow.plan.nodes) {
    if (n.kind !== 'fork') continue;
    const choice = flow.records[n.index]!.choice;
    if (choice === undefined) continue;
    for (const [name, streams] of n.branches) {
      if (name === choice) continue;
      for (const s of streams.flatMap((x) => [x, ...descendants(x)])) {
        const rec = flow.records[s.index]!;
        if (rec.state === 'skipped') continue;
        changed[s.id] = flow.records[s.index] = nextStream(rec, { type: 'skip' });
      }
    }
  }
  return changed;
}
