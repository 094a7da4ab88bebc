/**
 * Exclusive advisory file locks (flock through Deno.FsFile.lock): released when the holder dies.
 * The holder removes the lock file before it unlocks, so no empty lock files pile up; a waiter
 * that then gets the lock on the removed file sees that the path no longer names its file and
 * tries again on the new one.
 */
import { dirname } from "node:path";

export async function withFileLock<T>(path: string, action: () => Promise<T>): Promise<T> {
  await Deno.mkdir(dirname(path), { recursive: true });
  while (true) {
    const file = await Deno.open(path, { read: true, write: true, create: true });
    try {
      await file.lock(true);
      if (!(await namesFile(path, file))) continue;
      try {
        return await action();
      } finally {
        await Deno.remove(path);
      }
    } finally {
      file.close();
    }
  }
}

/** Whether `path` still names the open `file` (same device and inode). */
async function namesFile(path: string, file: Deno.FsFile): Promise<boolean> {
  const held = await file.stat();
  try {
    const now = await Deno.lstat(path);
    return now.ino === held.ino && now.dev === held.dev;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
