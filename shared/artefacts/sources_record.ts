/**
 * sources.json in a raw artefact: where the fetched (or drawn) files came from, with their
 * sizes and sha256. Its form is the dataset's: a list of copied package files (fonts), one
 * entry per downloaded archive (zappos), the seed a set was drawn from (shapes), or a user's
 * folder or archive with its label file (images); each form
 * has its schema here, and the dataset's fetch writes (and reads) it through that one.
 */
import { z } from "zod";
import { jsonArtefact } from "./json_artefact.ts";

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const Bytes = z.number().int().nonnegative();

/** fonts: one entry per font file copied from an npm package. */
export const FontSourceSchema = z.object({
  family: z.string().min(1),
  package: z.string().min(1),
  version: z.string().min(1),
  /** Path inside the artefact: fonts/<family>/<File>.ttf. */
  file: z.string().min(1),
  bytes: Bytes,
  sha256: Sha256,
});
export type FontSource = z.output<typeof FontSourceSchema>;

export const fontSources = jsonArtefact("sources.json", z.array(FontSourceSchema));

/** One downloaded archive: where from, its file name in the artefact, size and sha256. */
export const ArchiveSourceSchema = z.object({
  url: z.string().min(1),
  /** A plain file name in the artefact's folder. */
  file: z.string().regex(/^[^\\/]+$/),
  bytes: Bytes,
  sha256: Sha256,
  /** Where the bytes came from: the mirror folder (its path is not recorded) or the URL;
   * absent in artefacts fetched before mirrors were told apart. */
  via: z.enum(["mirror", "url"]).optional(),
});
export type ArchiveSource = z.output<typeof ArchiveSourceSchema>;

/** zappos: the images archive and the triplets archive. */
export const archiveSources = jsonArtefact(
  "sources.json",
  z.object({ images: ArchiveSourceSchema, triplets: ArchiveSourceSchema }),
);

/** shapes: nothing fetched; the generator, its seed and the file it drew. */
export const generatedSource = jsonArtefact(
  "sources.json",
  z.object({
    generator: z.string().min(1),
    seed: z.number().int().nonnegative(),
    per_class: z.number().int().positive(),
    file: z.string().min(1),
    bytes: Bytes,
    sha256: Sha256,
  }),
);

/**
 * images: where the user's images came from (a folder, whose path is not recorded, or an
 * archive), the label file as given and its copy in the artefact, the images kept and those
 * no label row names (left out), and the triplet files copied.
 */
export const imageSources = jsonArtefact(
  "sources.json",
  z.object({
    format: z.literal("csn-images-sources/1"),
    source: z.union([
      z.object({ kind: z.literal("folder") }),
      z.object({
        kind: z.literal("archive"),
        url: z.string().min(1),
        sha256: Sha256,
        via: z.enum(["mirror", "url"]),
      }),
    ]),
    labels: z.object({
      name: z.string().min(1),
      file: z.enum(["labels.csv", "labels.jsonl"]),
      format: z.enum(["csv", "jsonl"]),
      sha256: Sha256,
      rows: Bytes,
    }).nullable(),
    path_column: z.string().min(1),
    images: Bytes,
    unlabelled: z.array(z.string()),
    triplet_files: z.array(z.string().regex(/^[^\\/]+\.txt$/)),
  }),
);
export type ImageSources = z.output<typeof imageSources.schema>;
