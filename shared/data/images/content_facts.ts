/**
 * What the local inputs of an images fetch hold, for its cache key: the image folder as a
 * digest of its listing (path, size, modification time: hashing every image on each plan
 * would cost more than the fetch), the label file and triplet files by their sha256. A
 * label path that is not a local file is kept as given (a path inside the archive).
 */
import { join, resolve } from "node:path";
import { sha256File, sha256Hex } from "../../util/hash.ts";
import { listImages } from "./folder.ts";

async function fileSha256(path: string): Promise<string | undefined> {
  const info = await Deno.stat(path).catch(() => undefined);
  return info?.isFile ? await sha256File(path) : undefined;
}

export async function contentFacts(
  dir: string | undefined,
  labels: string | undefined,
  triplets: string | undefined,
): Promise<Record<string, unknown>> {
  const facts: Record<string, unknown> = {};
  if (dir !== undefined) {
    const root = resolve(dir);
    const isDir = (await Deno.stat(root).catch(() => undefined))?.isDirectory;
    // A missing folder is fetch's error to report; an empty one fails here, before planning.
    if (isDir) {
      const lines: string[] = [];
      for (const path of await listImages(root)) {
        const info = await Deno.stat(join(root, path));
        lines.push(`${path}\t${info.size}\t${info.mtime?.getTime() ?? 0}`);
      }
      facts.dir_listing = sha256Hex(lines.join("\n"));
    }
  }
  if (labels !== undefined) {
    const local = await fileSha256(resolve(labels)) ??
      (dir !== undefined ? await fileSha256(join(resolve(dir), labels)) : undefined);
    facts.labels = local ?? labels;
  }
  if (triplets !== undefined) {
    const root = resolve(triplets);
    const hashes: Record<string, string> = {};
    const isDir = (await Deno.stat(root).catch(() => undefined))?.isDirectory;
    for await (const entry of isDir ? Deno.readDir(root) : []) {
      if (entry.isFile && entry.name.endsWith(".txt")) {
        hashes[entry.name] = await sha256File(join(root, entry.name));
      }
    }
    facts.triplet_files = hashes;
  }
  return facts;
}
