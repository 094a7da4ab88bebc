/**
 * The sha256 of each file a mirror folder would supply for the given URLs (by basename), or
 * null where the mirror lacks it (that file then comes from its URL). These hashes, not the
 * mirror's path, go into a cache key: another folder with the same files is the same input,
 * the same folder with other files is not.
 */
import { join } from "node:path";
import { sha256File } from "../util/hash.ts";
import { urlBasename } from "./http_range.ts";

export async function mirrorHashes(
  mirrorDir: string,
  urls: readonly string[],
): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const url of urls) {
    const name = urlBasename(url);
    try {
      out[name] = await sha256File(join(mirrorDir, name));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      out[name] = null;
    }
  }
  return out;
}
