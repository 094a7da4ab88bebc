/** Finds the files the loader needs inside the extracted archives, tolerating extra folders. */
import {
  DEFAULT_IMAGES_ARCHIVE,
  DEFAULT_TRIPLETS_ARCHIVE,
  FILENAMES_FILE,
  IMAGES_ROOT,
} from "./layout.ts";
import { archiveSources } from "../../artefacts/sources_record.ts";

/** The archive file names in a fetch output: from sources.json, else the default names. */
export async function archiveNames(rawDir: string): Promise<{ images: string; triplets: string }> {
  const sources = await archiveSources.readIfExists(rawDir);
  if (sources === undefined) {
    return { images: DEFAULT_IMAGES_ARCHIVE, triplets: DEFAULT_TRIPLETS_ARCHIVE };
  }
  return { images: sources.images.file, triplets: sources.triplets.file };
}

/** Relative path of filenames.json among the extracted entries (the shallowest one). */
export function findFilenames(entries: readonly string[], archive: string): string {
  const hits = entries.filter((e) => e === FILENAMES_FILE || e.endsWith(`/${FILENAMES_FILE}`));
  hits.sort((a, b) => a.split("/").length - b.split("/").length);
  if (hits[0] === undefined) {
    throw new Error(`Cannot find "${FILENAMES_FILE}" in "${archive}"`);
  }
  return hits[0];
}

/** Triplet list base name -> relative path, for every `tripletlists/*.txt` entry. */
export function findTripletLists(entries: readonly string[]): Map<string, string> {
  const lists = new Map<string, string>();
  for (const entry of entries) {
    const match = /(?:^|\/)tripletlists\/([^/]+\.txt)$/.exec(entry);
    if (match && !lists.has(match[1]!)) lists.set(match[1]!, entry);
  }
  return lists;
}

/**
 * The folder prefix (inside the extracted images) that filenames.json paths are relative to:
 * `ut-zap50k-images/` normally, "" for an archive without its top folder.
 */
export function findImagesPrefix(
  entries: readonly string[],
  filenames: readonly string[],
  archive: string,
): string {
  const present = new Set(entries);
  const probe = filenames.slice(0, 200);
  const candidates = [`${IMAGES_ROOT}/`, ""];
  for (const entry of entries) {
    // Also try whatever folder sits above the first listed image, e.g. "data/ut-zap50k-images/".
    const first = probe[0];
    if (first !== undefined && entry.endsWith(`/${first}`)) {
      candidates.push(entry.slice(0, entry.length - first.length));
      break;
    }
  }
  let best = "";
  let bestHits = 0;
  for (const prefix of candidates) {
    const hits = probe.filter((name) => present.has(prefix + name)).length;
    if (hits > bestHits) [best, bestHits] = [prefix, hits];
  }
  if (bestHits === 0) {
    throw new Error(
      `Cannot find the images of filenames.json in "${archive}": none of the first ` +
        `${probe.length} listed (e.g. "${probe[0]}") is there; is it the UT Zappos50k images ` +
        `archive?`,
    );
  }
  return best;
}
