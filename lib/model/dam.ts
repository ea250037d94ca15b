import { z } from 'zod';
import { DURATION_FORMS, DURATION_MAX, durationMs, MAX_DURATION_MS, type Duration } from '../clock/duration.js';
import { VastflowError } from '../errors/vastflow-error.js';
import { illFormed, PROTO_KEY } from './json.js';
import { StreamBase } from './stream.js';

/** Options of a {@link Dam}. */
export interface DamOptions {
  /** No message within this time: the flow fails with E_TIMEOUT, or goes on when `onTimeout: 'continue'`. */
  timeout?: Duration;
  /** The headwaters key the message's payload is put under. @default the message name */
  key?: string;
  /** What a timeout does. @default 'fail' */
  onTimeout?: 'fail' | 'continue';
  /** A Dam with only `delay` (and no name) is a durable sleep: it opens once the time has passed. */
  delay?: Duration;
}

const duration = (name: string) =>
  z
    .custom<Duration>((v) => durationMs(v) !== undefined, `${name} must be ${DURATION_FORMS}`)
    .refine((v) => durationMs(v)! <= MAX_DURATION_MS, `${name} must be ${DURATION_MAX}`);

const optionsSchema = z.strictObject({
  timeout: duration('timeout').optional(),
  key: z
    .string()
    .min(1, 'key must be a non-empty string')
    .refine((k) => k !== PROTO_KEY, `key must not be "${PROTO_KEY}"`)
    .optional(),
  onTimeout: z.enum(['fail', 'continue'], { message: "onTimeout must be 'fail' or 'continue'" }).optional(),
  delay: duration('delay').optional(),
});

/**
 * Holds its branch until a message of its name is sent to the flow (`engine.send`), then puts the
 * payload into the headwaters under `key` and lets the branch go on; or, with only `delay`, sleeps
 * durably. A held flow keeps no call suspended and survives restarts.
 * @example
 * new Andes(engine).drawStream(new RequestApproval(), new Dam('approval', { timeout: '7d', key: 'decision' }), new Provision());
 * new Dam({ delay: '3d' }); // a durable sleep
 * @throws VastflowError E_INVALID_ARGUMENT for an empty name or a bad option, naming it.
 */
export class Dam extends StreamBase {
  readonly kind = 'dam' as const;
  /** The message it waits for; null for a durable sleep. */
  readonly message: string | null;
  readonly timeout: Duration | undefined;
  readonly key: string | undefined;
  readonly onTimeout: 'fail' | 'continue';
  readonly delay: Duration | undefined;

  constructor(message: string, options?: DamOptions);
  constructor(options: DamOptions & { delay: Duration });
  constructor(messageOrOptions: string | DamOptions, options: DamOptions = {}) {
    super();
    const named = typeof messageOrOptions === 'string';
    if (named && messageOrOptions === '') throw new VastflowError('E_INVALID_ARGUMENT', 'Dam: the message name must be a non-empty string');
    if (!named && (typeof messageOrOptions !== 'object' || messageOrOptions === null)) {
      throw new VastflowError('E_INVALID_ARGUMENT', 'Dam: give the name of the message it waits for, or { delay } for a durable sleep');
    }
    const raw = named ? options : messageOrOptions;
    const parsed = optionsSchema.safeParse(raw ?? {});
    const where = named ? `Dam "${messageOrOptions}"` : 'Dam';
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) =>
        i.code === 'unrecognized_keys' ? `unknown option ${(i as { keys: string[] }).keys.join(', ')}` : i.message,
      );
      throw new VastflowError('E_INVALID_ARGUMENT', `${where}: ${problems.join('; ')}`);
    }
    const o = parsed.data;
    if (named && o.key === undefined && messageOrOptions === PROTO_KEY) {
      // the payload goes under the message name when no key is given: as a headwaters key it would set the prototype
      throw new VastflowError('E_INVALID_ARGUMENT', `${where}: the payload's key would be "${PROTO_KEY}", which the headwaters refuse; give a key`);
    }
    const keyFault = o.key === undefined ? (named ? illFormed(messageOrOptions) : undefined) : illFormed(o.key);
    if (keyFault !== undefined) throw new VastflowError('E_INVALID_ARGUMENT', `${where}: the payload's key is not well-formed text: ${keyFault}`);
    if (named && o.delay !== undefined) {
      throw new VastflowError(
        'E_INVALID_ARGUMENT',
        `${where}: delay is for a durable sleep (new Dam({ delay })); to wait for a message at most so long, use timeout`,
      );
    }
    if (!named) {
      if (o.delay === undefined) throw new VastflowError('E_INVALID_ARGUMENT', 'Dam: a Dam without a message name is a durable sleep and needs delay');
      if (o.timeout !== undefined || o.key !== undefined || o.onTimeout !== undefined) {
        throw new VastflowError('E_INVALID_ARGUMENT', 'Dam: a durable sleep (no message name) takes only delay');
      }
    }
    this.message = named ? messageOrOptions : null;
    this.timeout = o.timeout;
    this.key = o.key;
    this.onTimeout = o.onTimeout ?? 'fail';
    this.delay = o.delay;
  }

  /** The headwaters key the payload goes under. */
  get payloadKey(): string | undefined {
    return this.message === null ? undefined : (this.key ?? this.message);
  }
}
