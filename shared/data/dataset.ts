import type { DatasetFacts, DecodeFact } from "../artefacts/dataset_facts.ts";

/**
 * The decoded dataset: what preprocess produces for any dataset (fonts, zappos) and shard
 * consumes. Images are uint8, HWC, all of one size; triplets index into the image list.
 */

/** A notion of similarity ("condition"). `values` names label ids where images carry them. */
export interface Notion {
  readonly name: string;
  /** Label names, index = label id. Empty when images carry no label for this notion. */
  readonly values: readonly string[];
}

export type Split = "train" | "val" | "test";
export const SPLITS: readonly Split[] = ["train", "val", "test"];

/** Triplets as flat quads: anchor, far, close, condition (index into `notions`). */
export type TripletTable = Int32Array;

export interface DecodedDataset {
  readonly dataset: string;
  /** The adapter's facts (set by the preprocess stage); absent in artefacts made before. */
  readonly facts?: DatasetFacts;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  /** Source name of each image (a path inside the archive, or font file + character). */
  readonly names: readonly string[];
  /** count * height * width * channels bytes, image after image. */
  readonly pixels: Uint8Array;
  readonly notions: readonly Notion[];
  /** Per notion name: a label id per image, or -1 where unknown. */
  readonly labels: Readonly<Record<string, Int32Array>>;
  readonly triplets: Readonly<Record<Split, TripletTable>>;
  /** Skipped glyphs, unreadable images, dropped triplets: human-readable, kept in the artefact. */
  readonly report: Record<string, unknown>;
}

/** Pixels a loader has already written to a file (count * height * width * channels bytes). */
export interface PixelFile {
  readonly file: string;
}

/** What a dataset's load returns: a DecodedDataset whose pixels may be streamed to a file. */
export type LoadedDataset = Omit<DecodedDataset, "pixels"> & {
  readonly pixels: Uint8Array | PixelFile;
  /** How image files were decoded (size, fit), for loaders that decode files: preprocess
   * records it in the facts, so that a query decodes a user's image the same way. */
  readonly decode?: DecodeFact;
};
