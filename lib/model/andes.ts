import { VastflowError, misuse } from '../errors/vastflow-error.js';
import { Atlantic } from './atlantic.js';
import { parseBlueprint, streamsFromBlueprint, streamsToBlueprint, type Blueprint } from './blueprint.js';
import { defaultEnginePort, isEngine, portOf, type Drawing, type EnginePort } from './engine-port.js';
import { describeValue } from './describe-value.js';
import { Headwaters } from './headwaters.js';
import { checkNamed, checkStreams, nameOf, type Stream } from './stream.js';
import type { FlowRun } from './flow-run.js';
import { blueprintToMermaid } from '../diagram/mermaid.js';
import type { Engine } from '../engine/engine.js';

/**
 * The fluent builder and starting point of one flow.
 * @example
 * const run = await new Andes(engine)
 *   .drawHeadwaters(new Headwaters('order-42').put('vmName', 'my-vm'))
 *   .drawStream(new ParallelRiver().append(new CreateVmRiver()).append(new CreateVolumeRiver()))
 *   .drawStream(new AttachVolumeRiver())
 *   .drawAtlantic(new AttachVolAtlantic())
 *   .start();
 * const outcome = await run.result();
 */
export class Andes {
  readonly #engine: Engine | undefined;
  #hw: Headwaters<any> | undefined;
  readonly #streams: Stream[] = [];
  #atlantic: Atlantic | undefined;
  /** A blueprint drawn without an engine: its classes are resolved by the default engine at start. */
  #pending: Blueprint | undefined;

  /**
   * @param engine the engine that runs the flow; omitted → the default engine ({@link Engine.default}).
   * @throws VastflowError E_INVALID_ARGUMENT when `engine` is given but is not an Engine.
   */
  constructor(engine?: Engine) {
    checkEngine('Andes', engine);
    this.#engine = engine;
  }

  /**
   * Sets the flow's headwaters; omitted → an empty Headwaters with a fresh requestId. Chainable.
   * @throws VastflowError E_INVALID_ARGUMENT when `hw` is not a Headwaters.
   */
  drawHeadwaters(hw: Headwaters<any>): this {
    if (!(hw instanceof Headwaters)) throw misuse(`drawHeadwaters: expected a Headwaters, got ${describeValue(hw)}`);
    this.#hw = hw;
    return this;
  }

  /**
   * Appends streams to the flow, run in order. Chainable.
   * @throws VastflowError E_INVALID_ARGUMENT when an argument is not a stream, or is a river or fork
   *   of an anonymous class with no `static riverName` (then none is drawn).
   */
  drawStream(...streams: Stream[]): this {
    checkStreams('drawStream', streams);
    for (const s of streams) this.#streams.push(s); // no push(...): a wide drawing would overflow the stack
    return this;
  }

  /**
   * Sets the flow's end; omitted → an Atlantic that does nothing. Chainable.
   * @throws VastflowError E_INVALID_ARGUMENT when `atlantic` is not an Atlantic, or is of an anonymous
   *   class with no `static riverName`.
   */
  drawAtlantic(atlantic: Atlantic): this {
    if (!(atlantic instanceof Atlantic)) throw misuse(`drawAtlantic: expected an Atlantic, got ${describeValue(atlantic)}`);
    checkNamed('drawAtlantic', atlantic, 'Atlantic');
    this.#atlantic = atlantic;
    return this;
  }

  /** The flow's headwaters (made on first use when none was drawn). */
  get headwaters(): Headwaters<any> {
    return (this.#hw ??= new Headwaters());
  }

  /**
   * Records the flow in the engine's store and runs it in the background. Starting a requestId the
   * store already holds returns that flow, without running it again.
   * @throws VastflowError E_EMPTY_FLOW, E_DUPLICATE_STREAM, E_INVALID_ATTR, E_DUPLICATE_NAME, E_CLOSED;
   *   E_BLUEPRINT when streams nest more than 64 deep
   */
  async start(): Promise<FlowRun> {
    const engine = this.#engine === undefined ? await defaultEnginePort() : portOf(this.#engine);
    if (this.#pending !== undefined) {
      this.#drawBlueprint(this.#pending, engine);
      this.#pending = undefined;
    }
    const drawing: Drawing = { hw: this.headwaters, streams: [...this.#streams], atlantic: this.#atlantic };
    return engine.startFlow(drawing);
  }

  /** The blueprint: this flow as JSON (see docs/blueprints.md). */
  toJSON(): Blueprint {
    if (this.#pending !== undefined) return structuredClone(this.#pending);
    const hw = this.headwaters;
    const drawn = new Set<Stream>();
    const bp: Blueprint = { vastflow: 1, requestId: hw.requestId, headwaters: hw.toJSON(), streams: streamsToBlueprint(this.#streams, '', drawn) };
    if (hw.reqInfo !== undefined) bp.reqInfo = hw.reqInfo;
    if (this.#atlantic !== undefined && this.#atlantic.constructor !== Atlantic) bp.atlantic = nameOf(this.#atlantic);
    // the engine finds the classes by name from now on, as after start(): fromJSON(toJSON()) draws this flow again
    if (this.#engine !== undefined) {
      const classes: Function[] = [...drawn].filter((s) => s.kind === 'river' || s.kind === 'fork').map((s) => s.constructor);
      if (bp.atlantic !== undefined) classes.push(this.#atlantic!.constructor);
      portOf(this.#engine).learn(classes);
    }
    return bp;
  }

  /** A Mermaid flowchart of the drawing (paste it into the Mermaid live editor or a Markdown file). */
  toMermaid(): string {
    return blueprintToMermaid(this.toJSON());
  }

  /**
   * Draws a flow from a blueprint, finding classes through the engine's registry.
   * @param engine the engine whose registry resolves the names and that runs the flow; omitted → the default engine's registry at start.
   * @throws VastflowError E_BLUEPRINT with the path of the first problem (also for streams nested more than
   *   64 deep, JSON more than 256 levels deep, a `__proto__` key); E_UNKNOWN_CLASS listing the registered names of the kind;
   *   E_INVALID_ARGUMENT when `engine` is given but is not an Engine.
   */
  static fromJSON(json: unknown, engine?: Engine): Andes {
    checkEngine('Andes.fromJSON', engine);
    const bp = parseBlueprint(typeof json === 'string' ? parseText(json) : json);
    const andes = new Andes(engine);
    const hw = new Headwaters(bp.requestId);
    for (const [k, v] of Object.entries(bp.headwaters ?? {})) hw.put(k, v);
    if (bp.reqInfo !== undefined) hw.reqInfo = bp.reqInfo;
    andes.drawHeadwaters(hw);
    if (engine === undefined) andes.#pending = bp;
    else andes.#drawBlueprint(bp, portOf(engine));
    return andes;
  }

  #drawBlueprint(bp: Blueprint, engine: EnginePort): void {
    for (const s of streamsFromBlueprint(bp.streams, engine.classes)) this.drawStream(s);
    if (bp.atlantic !== undefined) this.drawAtlantic(new (engine.classes.atlantic(bp.atlantic))());
  }
}

/** @throws VastflowError E_INVALID_ARGUMENT naming `method` when `engine` is given but is not an Engine. */
function checkEngine(method: string, engine: unknown): void {
  if (engine !== undefined && !isEngine(engine)) {
    throw misuse(`${method}: expected an Engine (from Engine.open), or none for the default engine, got ${describeValue(engine)}`);
  }
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new VastflowError('E_BLUEPRINT', `blueprint: not JSON: ${(err as Error).message}`);
  }
}
