/** The canonical listing of an artefact and the id derived from it. */
import { canonicalJson } from "../util/canonical_json.ts";
import { sha256Hex } from "../util/hash.ts";
import type { ListedFile } from "./store.ts";

export const LISTING_FILE = "listing.json";

/** What the store keeps beside the files: the listing (hashed into the id) and trust facts. */
export interface ListingRecord {
  readonly format: "csn-artefact/1";
  readonly files: readonly ListedFile[];
  /** mtime (ms) of each file when it was committed; unchanged size+mtime means untouched. */
  readonly mtimes: Readonly<Record<string, number>>;
  /** In a bucket: each file's ETag as S3 stored it; a changed ETag means rewritten bytes. */
  readonly etags?: Readonly<Record<string, string>>;
}

export function artefactId(files: readonly ListedFile[]): string {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return sha256Hex(canonicalJson({ format: "csn-artefact/1", files: sorted }));
}

const ID_PATTERN = /^[0-9a-f]{64}$/;

export function assertArtefactId(id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new TypeError(
      `Cannot use "${id}" as an artefact: it is not an artefact id, expected 64 lowercase hex ` +
        "digits",
    );
  }
}
