// Compile-time tests of the public generics: `npm run typecheck` (part of `npm test`) compiles this
// file, and every `@ts-expect-error` line must be an error, or the build fails. Nothing here runs.
import {
  Andes,
  Atlantic,
  Basin,
  Engine,
  Fork,
  Headwaters,
  ParallelRiver,
  River,
  type FlowError,
  type FlowOutcome,
  type FlowRun,
  type FlowSnapshot,
  type Json,
  type RiverAttr,
  type RiverContext,
} from '../../lib/index.js';
import { pino } from 'pino';

interface Order {
  id: string;
  qty?: number;
  tags?: string[];
  note?: string | null;
}
type Vm = { name: string; size: number };

declare const engine: Engine;

export function headwatersAreTypedByTheirShape(): void {
  const hw = new Headwaters<Order>('order-1');
  hw.put('id', 'o-1').put('qty', 3).put('tags', ['a']);
  const id: string | undefined = hw.get('id');
  const qty: number | undefined = hw.get('qty');
  void id;
  void qty;
  // @ts-expect-error a key the shape does not have
  hw.put('price', 3);
  // @ts-expect-error a value of the wrong type
  hw.put('qty', 'three');
  // @ts-expect-error an optional key takes no undefined: it is not JSON (put throws E_NOT_SERIALIZABLE); del() removes a key
  hw.put('qty', undefined);
  // @ts-expect-error nor a value that may be undefined
  hw.put('qty', hw.get('qty'));
  // null is JSON: a key whose type allows it takes it
  hw.put('note', null).put('note', 'fragile');
  // @ts-expect-error but a key whose type does not allow null takes none
  hw.put('qty', null);
  // @ts-expect-error get() may return undefined
  const sure: string = hw.get('id');
  void sure;

  const vm = new Headwaters<Vm>();
  vm.put('size', 2);
  // @ts-expect-error a type alias is checked as an interface is
  vm.put('size', true);

  // untyped headwaters take any JSON value under any key
  const loose = new Headwaters();
  loose.put('anything', { nested: [1, 'two', null] });
  const json: Json | undefined = loose.get('anything');
  void json;
}

class CreateVm extends River<{ region: string }> {
  static override riverName = 'CreateVm';
  override update(attr: RiverAttr) {
    attr.retryTimes = 3;
    attr.retryInterval = '2s';
    attr.timeout = 500;
    // @ts-expect-error durations are ms or strings
    attr.cycleInterval = true;
  }
  override async flow(hw: Headwaters, ctx: RiverContext) {
    const region: string | undefined = this.config?.region;
    hw.put('region', region ?? 'none');
    const attempt: number = ctx.attempt;
    void attempt;
    void ctx.signal.aborted;
  }
  override async cycle(): Promise<boolean> {
    return true;
  }
}

class SizeFork extends Fork {
  override choose(hw: Headwaters): string {
    return (hw.getNumber('size') ?? 0) > 100 ? 'big' : 'small';
  }
}

class Done extends Atlantic {
  override async fail(_hw: Headwaters, error: FlowError) {
    const code: string = error.code;
    const cause: string | { river: string } | undefined = error.cause;
    void code;
    void cause;
  }
}

export async function theBuilderChainsAndStarts(): Promise<void> {
  new CreateVm({ region: 'eu-1' });
  // @ts-expect-error the config has the river's config type
  new CreateVm({ zone: 'eu-1' });

  const andes: Andes = new Andes(engine)
    .drawHeadwaters(new Headwaters<Order>('o-2'))
    .drawStream(new ParallelRiver().append(new CreateVm()).append(new CreateVm(), new CreateVm()))
    .drawStream(new Basin('blue').drawStream(new CreateVm()))
    .drawStream(new SizeFork().branch('big', new CreateVm()).branch('small', new CreateVm()))
    .drawAtlantic(new Done());
  // @ts-expect-error only streams are drawn
  andes.drawStream({ river: 'CreateVm' });
  // @ts-expect-error the end is an Atlantic
  andes.drawAtlantic(new CreateVm());

  const run: FlowRun = await andes.start();
  const existing: boolean = run.existing;
  const outcome: FlowOutcome = await run.result();
  const status: 'success' | 'fail' | 'cancelled' = outcome.status;
  void existing;
  void status;
  const snap: FlowSnapshot | undefined = await engine.get(run.requestId);
  const history = snap?.streams[0]?.history[0];
  const phase: 'flow' | 'cycle' | 'compensate' | undefined = history?.phase;
  void phase;
  Andes.fromJSON(andes.toJSON(), engine);
}

export function riversLogAsWithPino(ctx: RiverContext): void {
  ctx.log.info('created %s in %d ms', 'vm-1', 12);
  ctx.log.warn({ vm: 'vm-1' }, 'slow: %d ms', 900);
  ctx.log.error(new Error('boom'), 'attach failed');
  ctx.log.child({ step: 'attach' }).debug({ n: 1 });
  // @ts-expect-error a log call needs fields or a message
  ctx.log.info();
  // @ts-expect-error the message after the fields is text
  ctx.log.info({ vm: 'vm-1' }, 42);
}

export async function enginesTakeAPinoLoggerOrOneOfTheirOwn(): Promise<void> {
  await Engine.open({ logger: pino({ level: 'silent' }) });
  const write = (_fieldsOrMessage: object | string, _message?: string): void => undefined;
  const own = { trace: write, debug: write, info: write, warn: write, error: write, fatal: write, child: () => own };
  await Engine.open({ logger: own });
  // @ts-expect-error a logger needs every level method
  await Engine.open({ logger: { info: write, child: () => own } });
}

export function eventsSayTheStatesTheyCanHold(): void {
  engine.on('flow:end', (e) => {
    const status: 'success' | 'fail' | 'cancelled' = e.status;
    void status;
    // @ts-expect-error a flow that ended is not running
    void (e.status === 'running');
  });
  engine.on('river:end', (e) => {
    const state: 'success' | 'fail' = e.state;
    void state;
    // @ts-expect-error a river that ended is not cycling
    void (e.state === 'cycling');
  });
}
