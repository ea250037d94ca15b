import { VastflowError } from '../errors/vastflow-error.js';

/** The abstract-level code of an error, on the error itself or on its cause (`LEVEL_CORRUPTION`, …). */
export function levelCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  // abstract-level wraps the binding's error (LEVEL_DATABASE_NOT_OPEN caused by LEVEL_IO_ERROR): the cause says more
  if (typeof e.cause?.code === 'string') return e.cause.code;
  return typeof e.code === 'string' ? e.code : undefined;
}

/** True for LevelDB's reports of damaged or unreadable files: a checksum, a bad table, a failed read. */
export function isDamage(err: unknown): boolean {
  const code = levelCode(err);
  return code === 'LEVEL_CORRUPTION' || code === 'LEVEL_IO_ERROR';
}

/** Where a damaged store's owner is sent. */
export const REPAIR_HINT = 'see docs/durability.md#repairing-a-damaged-store (LevelStore.repair)';

/**
 * A read that LevelDB failed because a file is damaged, as E_STORE_CORRUPT naming what was read
 * (`flow <id>` or a key range); any other error is returned as it is.
 */
export function readError(err: unknown, where: string, what: string): unknown {
  if (!isDamage(err)) return err;
  const message = (err as Error).message;
  return new VastflowError('E_STORE_CORRUPT', `${what} in ${where} cannot be read: ${message}; ${REPAIR_HINT}`, { cause: err });
}

/** The error that makes a store refuse every write after its first failed one. */
export function writeFailure(err: unknown, where: string): VastflowError {
  const message = err instanceof Error ? err.message : String(err);
  return new VastflowError(
    'E_STORE_UNAVAILABLE',
    `store ${where}: a write failed (${message}); it takes no more writes: close the engine, fix the cause (e.g. free disk space) and open the store again`,
    { cause: err },
  );
}

/** An error of LevelDB's open, with our code when we know what it means. */
export function openError(err: unknown, where: string): unknown {
  const code = levelCode(err);
  if (code === 'LEVEL_LOCKED') return new VastflowError('E_STORE_LOCKED', `store ${where} is locked: another engine holds it`, { cause: err });
  const cause = (err as { cause?: unknown }).cause ?? err;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (code === 'LEVEL_CORRUPTION') {
    return new VastflowError('E_STORE_CORRUPT', `store ${where} cannot be opened: ${message}; ${REPAIR_HINT}`, { cause: err });
  }
  // a file LevelDB's CURRENT or manifest names is missing: damage, which repair can mend
  if (code === 'LEVEL_IO_ERROR' && /No such file or directory/.test(message)) {
    return new VastflowError('E_STORE_CORRUPT', `store ${where} cannot be opened: a file it needs is missing (${message}); ${REPAIR_HINT}`, { cause: err });
  }
  if (code === 'LEVEL_IO_ERROR') {
    return new VastflowError('E_STORE_UNAVAILABLE', `store ${where} cannot be opened: ${message} (is the disk full?)`, { cause: err });
  }
  // LevelDB makes its directory: a file there, or a parent it may not write to, stops it
  if (code === 'EEXIST' || code === 'ENOTDIR') {
    return new VastflowError(
      'E_STORE_UNAVAILABLE',
      `store ${where} cannot be opened: it is not a directory (${message}); give the path of a directory, or one to create`,
      { cause: err },
    );
  }
  if (code === 'ENOENT') {
    return new VastflowError('E_STORE_UNAVAILABLE', `store ${where} cannot be opened: its directory cannot be made there (${message})`, { cause: err });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new VastflowError('E_STORE_UNAVAILABLE', `store ${where} cannot be opened: ${message}`, { cause: err });
  }
  return err;
}
