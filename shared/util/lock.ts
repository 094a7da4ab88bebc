/** Exclusive advisory file locks (flock through Deno.FsFile.lock): released when the holder dies. */
import { dirname } from "node:path";

export async function withFileLock<T>(path: string, action: () => Promise<T>): Promise<T> {
  await Deno.mkdir(dirname(path), { recursive: true });
  using file = await Deno.open(path, { read: true, write: true, create: true });
  await file.lock(true);
  try {
    return await action();
  } finally {
    await file.unlock();
  }
}
