/**
 * The runtime folders (csn-xdg-*, in the temp dir) a command makes for the GPU stack when no
 * XDG_RUNTIME_DIR is given. The maker holds a lock on a file inside for its whole life and
 * removes the folder on the way out; a folder whose lock can be taken belongs to a command
 * that was killed, so the next command sweeps it.
 */
import { basename, dirname, join } from "node:path";

export const RUNTIME_DIR_PREFIX = "csn-xdg-";
/** Made under this name, locked, then renamed: a sweep never meets a folder not yet locked. */
const MAKING_PREFIX = "csn-making-xdg-";
const LOCK = ".csn-owner.lock";
/** Folders without a lock file (made before there was one) go when older than this. */
const UNLOCKED_AGE_MS = 24 * 3600 * 1000;

/** Held open (and locked) until this process ends. */
let held: Deno.FsFile | undefined;

/** Makes a private runtime folder, locked as this process's, after sweeping dead ones. */
export function makeRuntimeDir(): string {
  const making = Deno.makeTempDirSync({ prefix: MAKING_PREFIX });
  Deno.chmodSync(making, 0o700);
  held = Deno.openSync(join(making, LOCK), { read: true, write: true, createNew: true });
  held.lockSync(true);
  const dir = join(
    dirname(making),
    RUNTIME_DIR_PREFIX + basename(making).slice(MAKING_PREFIX.length),
  );
  Deno.renameSync(making, dir);
  sweepRuntimeDirs(dirname(dir)); // the temp dir, as Deno found it; this one is locked
  return dir;
}

/** Removes the runtime folders of commands that died without removing theirs; their count. */
export function sweepRuntimeDirs(base: string): number {
  let swept = 0;
  for (const entry of Deno.readDirSync(base)) {
    if (!entry.isDirectory) continue;
    const dir = join(base, entry.name);
    if (entry.name.startsWith(MAKING_PREFIX)) {
      if (ageOf(dir) > UNLOCKED_AGE_MS) swept += remove(dir); // killed while making it
      continue;
    }
    if (!entry.name.startsWith(RUNTIME_DIR_PREFIX)) continue;
    let lock: Deno.FsFile;
    try {
      lock = Deno.openSync(join(dir, LOCK), { read: true, write: true });
    } catch (error) {
      if (error instanceof Deno.errors.PermissionDenied) continue; // another user's
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      if (ageOf(dir) > UNLOCKED_AGE_MS) swept += remove(dir);
      continue;
    }
    try {
      if (lock.tryLockSync(true)) swept += remove(dir);
    } finally {
      lock.close();
    }
  }
  return swept;
}

function ageOf(dir: string): number {
  try {
    return Date.now() - (Deno.statSync(dir).mtime?.getTime() ?? Date.now());
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

function remove(dir: string): number {
  try {
    Deno.removeSync(dir, { recursive: true });
    return 1;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0; // its owner or another sweep was first
    throw error;
  }
}
