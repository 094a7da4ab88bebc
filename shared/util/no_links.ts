/**
 * Refuses to write through a symbolic link planted inside the project's data/ (or a run
 * folder): Deno's --allow-write checks the path as written, the kernel follows the link, so
 * `ln -s ELSEWHERE data/work` would let a stage write outside data/. data/ itself may be a link
 * (a bigger disk): what lies inside it is the project's own.
 */
import { join, relative } from "node:path";

/** The folders inside data/ the store, cache, locks and stage scratch write under. */
export const DATA_FOLDERS = [
  "work",
  "store",
  "store/objects",
  "store/tmp",
  "store/damaged",
  "cache",
  "locks",
  "remote-cache",
  "remote-cache/objects",
  "remote-cache/tmp",
];

/** Throws when `path`, or a folder between `base` and it, is a symbolic link; a missing part
 * is fine (it is made as a real folder). `shownFrom` is what the message's path is relative to. */
export function assertNoLink(base: string, path: string, shownFrom = base): void {
  const parts = relative(base, path).split("/").filter((part) => part !== "");
  let current = base;
  for (const part of parts) {
    current = join(current, part);
    let info: Deno.FileInfo;
    try {
      info = Deno.lstatSync(current);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    if (info.isSymlink) {
      let target = "?";
      try {
        target = Deno.readLinkSync(current);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      throw new Error(
        `Cannot write under ${relative(shownFrom, current)}: it is a symbolic link (to ` +
          `${target}); expected a folder. Remove the link (csn writes only inside the project)`,
      );
    }
  }
}

/** Checks every folder inside `root`/data/ that csn writes under. */
export function assertNoLinksInData(root: string): void {
  const data = join(root, "data");
  for (const folder of DATA_FOLDERS) assertNoLink(data, join(data, folder), root);
}
