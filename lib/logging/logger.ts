import { pino, type LoggerOptions } from 'pino';

type LogFn = {
  (obj: object, msg?: string): void;
  (msg: string): void;
};

/** The logger vastflow needs: pino's level methods plus `child`. A pino logger is one. */
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

/** The default logger: pino at env VASTFLOW_LOG_LEVEL, else 'warn'. */
export function createLogger(options?: LoggerOptions): Logger {
  return pino({ name: 'vastflow', level: process.env['VASTFLOW_LOG_LEVEL'] ?? 'warn', ...options });
}
