/**
 * The artefact store interface: the local filesystem store and the S3 store (which
 * materialises artefacts into a local cache for `open`) implement it.
 */

/** One file of an artefact, as recorded in its listing. */
export interface ListedFile {
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export type Verification =
  | { readonly intact: true; readonly rehashed: number }
  | { readonly intact: false; readonly problem: string };

/** How hard `verify` looks: trust unchanged size+mtime ("fast") or rehash every byte ("full"). */
export type VerifyMode = "fast" | "full";

/** A folder being filled with an artefact's files; `commit` makes it immutable and returns its id. */
export interface ArtefactDraft {
  readonly dir: string;
  commit(): Promise<string>;
  abort(): Promise<void>;
}

export interface ArtefactStore {
  /** Removes leftovers of writes whose process died. Called when a run starts. */
  sweep(): Promise<number>;
  draft(): Promise<ArtefactDraft>;
  verify(id: string, mode?: VerifyMode): Promise<Verification>;
  /** Moves a damaged artefact aside (kept for inspection, never served again). */
  quarantine(id: string, why: string): Promise<void>;
  /** A local, read-only directory holding the artefact's files. */
  open(id: string): Promise<string>;
  /**
   * Copies one file of an artefact to `target`, checked against the listing, without fetching
   * the rest. For stores whose `open` is costly (a remote one); otherwise open + copy.
   */
  copyOut?(id: string, path: string, target: string): Promise<void>;
  listing(id: string): Promise<readonly ListedFile[]>;
  list(): Promise<string[]>;
  /** When the artefact was committed (ms since the epoch); gc keeps young ones. */
  modified(id: string): Promise<number>;
  remove(id: string): Promise<void>;
}
