// A real, small filesystem that a spec can fill: a tmpfs mounted on a fresh temp dir. Mounting
// needs root (tests and CI run as root); without it the spec fails loudly rather than skipping.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A mounted tmpfs and the means to fill it up and make room again. */
export interface Tmpfs {
  readonly dir: string;
  /** Bytes still free for files. */
  free(): number;
  /** Fills the filesystem with a filler file until only `leave` bytes are free. */
  fill(leave?: number): void;
  /** Gives `bytes` of the filler back (all of it when omitted). */
  makeRoom(bytes?: number): void;
  unmount(): void;
}

/** Mounts a tmpfs of `size` (mount's notation, e.g. '2m'); throws when it cannot (not root). */
export function mountTmpfs(size: string): Tmpfs {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    fs.rmdirSync(dir);
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new Error(`this spec needs a real full filesystem: mounting a ${size} tmpfs on ${dir} failed (run the tests as root): ${why}`);
  }
  const filler = path.join(dir, 'filler');
  let mounted = true;
  const free = (): number => {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  };
  return {
    dir,
    free,
    fill(leave = 0) {
      const size = fs.existsSync(filler) ? fs.statSync(filler).size : 0;
      const grow = free() - leave;
      if (grow <= 0) return;
      try {
        fs.appendFileSync(filler, Buffer.alloc(grow));
      } catch (err) {
        // tmpfs counts whole pages: the last bytes may not fit, and a full disk is what was asked for
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        if (fs.statSync(filler).size === size) throw err;
      }
    },
    makeRoom(bytes) {
      if (!fs.existsSync(filler)) return;
      const size = fs.statSync(filler).size;
      fs.truncateSync(filler, bytes === undefined ? 0 : Math.max(0, size - bytes));
    },
    unmount() {
      if (!mounted) return;
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); // something still holds a file: detach it
      }
      mounted = false;
      fs.rmdirSync(dir);
    },
  };
}
