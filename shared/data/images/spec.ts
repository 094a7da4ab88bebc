/**
 * The images dataset's name, facts and params (the adapter's light half; see ../adapter.ts):
 * a user's own folder or archive of images, with a CSV / JSON Lines label file or one notion
 * per folder level.
 */
import { z } from "zod";
import { defineSpec } from "../adapter.ts";
import { FITS } from "../decode/fit.ts";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256 (64 characters)");

/** A list of names, given as an array or as one comma-separated string. */
const nameList = z.preprocess(
  (value) =>
    typeof value === "string"
      ? value.split(",").map((c) => c.trim()).filter((c) => c !== "")
      : value,
  z.array(z.string().min(1)),
);

export const imagesSpec = defineSpec({
  name: "images",
  description: "your own images: a folder or archive, with a CSV or JSON Lines label file " +
    "(one notion per column) or one notion per folder level",
  facts: { photos: true },
  fetchParams: z.object({
    /** A local folder of images, any depth of sub-folders. */
    dir: z.string().min(1).optional(),
    /** Or an archive (.zip, .tar.gz, .tgz) to download; `sha256` pins its bytes. */
    url: z.string().url().optional(),
    sha256: sha256.optional(),
    /** A folder already holding the archive under the URL's file name. */
    mirror: z.string().min(1).optional(),
    /**
     * The label file (.csv, .jsonl): a local path, or with `url` a path inside the archive.
     * None: one notion per folder level (level_1, level_2, ...).
     */
    labels: z.string().min(1).optional(),
    /** The label file's column of image paths, relative to the folder. */
    path_column: z.string().min(1).default("path"),
    /** A folder of `<notion>.txt` triplet files (`anchor far close`, paths or row numbers). */
    triplets: z.string().min(1).optional(),
    download_dir: z.string().min(1).default("data/downloads"),
    retries: z.number().int().min(0).max(20).default(3),
  }),
  preprocessParams: z.object({
    /** The label columns that are notions; default every column but the path and split. */
    conditions: nameList.optional(),
    /** Columns holding numbers (heel height, price): relative triplets by value. */
    numeric: nameList.default([]),
    /** A numeric triplet's close value is nearer the anchor's than far's by at least this. */
    min_gap: z.number().min(0).default(0),
    /** A column of train / val / test; when the file has none, splits are drawn (seeded). */
    split_column: z.string().min(1).default("split"),
    val_fraction: z.number().min(0).max(0.5).default(0.1),
    test_fraction: z.number().min(0).max(0.5).default(0.1),
    /** To a square: "crop" keeps the centre, "letterbox" fits the whole image on white. */
    fit: z.enum(FITS).default("crop"),
    /** Largest share of unreadable images tolerated before failing. */
    max_bad_fraction: z.number().min(0).max(1).default(0.01),
    workers: z.number().int().min(1).max(64).default(2),
  }),
  volatileParams: {
    // Where the files are read from cannot change the outputs: what they hold can, and is a
    // runtime fact (see adapter.ts).
    fetch: ["dir", "labels", "triplets", "mirror", "download_dir", "retries"],
    preprocess: ["workers"],
  },
});
