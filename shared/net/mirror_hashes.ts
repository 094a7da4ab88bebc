/**
 * A named mirror folder must hold every file asked of it, under its URL's basename: a mirror
 * that is named is used, or the run fails here naming what is missing (a silent fall-through
 * to the network would retry for seconds offline, then advise passing the mirror option the
 * user had passed). The sha256 of each mirror file, not the mirror's path, goes into a cache
 * key: another folder with the same files is the same input, the same folder with other files
 * is not.
 */
import { join } from "node:path";
import { sha256File } from "../util/hash.ts";
import { urlBasename } from "./http_range.ts";

/** The mirror folder is unusable for these URLs; `message` names what is missing. */
export class MirrorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MirrorError";
  }
}

/** Throws a MirrorError unless `mirrorDir` holds every URL's basename as a file. */
export async function checkMirror(mirrorDir: string, urls: readonly string[]): Promise<void> {
  let held: string[];
  try {
    held = await listFolder(mirrorDir);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new MirrorError(
        `Cannot use mirror folder "${mirrorDir}": it does not exist (fetch.mirror names a ` +
          "folder holding the archives; create it or drop the option to download them)",
      );
    }
    if (error instanceof Deno.errors.NotADirectory) {
      throw new MirrorError(
        `Cannot use mirror folder "${mirrorDir}": it is a file, expected a folder holding ` +
          urls.map((url) => `"${urlBasename(url)}"`).join(", "),
      );
    }
    throw error;
  }
  const files = new Set(held.filter((name) => !name.endsWith("/")));
  const missing = urls.map(urlBasename).filter((name) => !files.has(name));
  if (missing.length === 0) return;
  const unzipped = missing.some((name) => held.includes(`${name.replace(/\.zip$/i, "")}/`)) ||
    held.includes("tripletlists/");
  const holds = held.length === 0 ? "it is empty" : `it holds ${shortList(held)}`;
  throw new MirrorError(
    `Cannot use mirror folder "${mirrorDir}": it lacks ${
      missing.map((n) => `"${n}"`).join(" and ")
    } (${holds}); ` +
      (unzipped
        ? "it looks like the archives unzipped: put the .zip files themselves there, as " +
          "downloaded"
        : "put every archive there under that name, or drop fetch.mirror to download them"),
  );
}

/** sha256 per URL basename of the files a (checked) mirror folder supplies. */
export async function mirrorHashes(
  mirrorDir: string,
  urls: readonly string[],
): Promise<Record<string, string>> {
  await checkMirror(mirrorDir, urls);
  const out: Record<string, string> = {};
  for (const url of urls) {
    const name = urlBasename(url);
    out[name] = await sha256File(join(mirrorDir, name));
  }
  return out;
}

/** Entry names, sorted, folders with a trailing slash. */
async function listFolder(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    names.push(entry.isDirectory ? `${entry.name}/` : entry.name);
  }
  return names.sort();
}

function shortList(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}
