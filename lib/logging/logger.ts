import { pino, type LoggerOptions } from 'pino';
import { VastflowError } from '../errors/vastflow-error.js';

/** A level method's two forms, as pino's; taken from a method so that it compares as methods do. */
interface LevelMethod {
  log(obj: unknown, msg?: string, ...args: unknown[]): void;
  log(msg: string, ...args: unknown[]): void;
}

/**
 * One of a {@link Logger}'s level methods, called as pino's are: an object of fields then an
 * optional message, or a message alone, either with printf-style `%s`, `%d`, `%o` placeholders
 * filled from the arguments after it. A method's type: a logger whose methods take narrower
 * arguments still fits.
 */
export type LogFn = LevelMethod['log'];

/**
 * The logger vastflow needs: pino's level methods plus `child`. A pino logger is one, and so is
 * any object with these methods.
 *
 * @example
 * ctx.log.info({ vm: vmName }, 'created in %d ms', elapsed);
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled?(level: string): boolean;
}

/** True for an object that can serve as a {@link Logger}. */
export function isLogger(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'child'].every((m) => typeof v[m] === 'function');
}

/**
 * The default logger: pino at env VASTFLOW_LOG_LEVEL, else 'warn'. `origin` and `levelOrigin` name
 * the options and their level in the error.
 * @throws VastflowError E_INVALID_ARGUMENT when pino refuses the options (an unknown level).
 */
export function createLogger(options?: LoggerOptions, origin = 'Engine.open: logger', levelOrigin = `${origin}.level`): Logger {
  const settings = { name: 'vastflow', level: process.env['VASTFLOW_LOG_LEVEL'] ?? 'warn', ...options };
  const level = settings.level;
  if (typeof level === 'string' && level !== 'silent' && !Object.hasOwn(pino.levels.values, level) && !Object.hasOwn(settings.customLevels ?? {}, level)) {
    const source = options?.level === undefined ? 'env VASTFLOW_LOG_LEVEL' : levelOrigin;
    throw new VastflowError(
      'E_INVALID_ARGUMENT',
      `${source}: unknown level ${JSON.stringify(level)}; the levels are silent, ${Object.keys(pino.levels.values).join(', ')}`,
    );
  }
  try {
    return pino(settings);
  } catch (err) {
    const source = options?.level === undefined && process.env['VASTFLOW_LOG_LEVEL'] !== undefined ? 'env VASTFLOW_LOG_LEVEL' : origin;
    throw new VastflowError('E_INVALID_ARGUMENT', `${source}: ${(err as Error).message}`, { cause: err });
  }
}
