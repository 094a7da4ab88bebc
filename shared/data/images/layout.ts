/**
 * The images dataset's raw artefact: `images/` (the labelled images, under their paths),
 * the label file as given (`labels.csv` or `labels.jsonl`, absent in folder-level mode),
 * `triplets/<notion>.txt` when the user gave triplets, and sources.json, which fetch writes
 * and load reads back (checked).
 */
import { join } from "node:path";
import { z } from "zod";
import { readJsonFile } from "../../util/fs.ts";

export const IMAGES_DIR = "images";
export const TRIPLETS_DIR = "triplets";
export const SOURCES_FILE = "sources.json";
export const SOURCES_FORMAT = "csn-images-sources/1";

const Sources = z.object({
  format: z.literal(SOURCES_FORMAT),
  /** Where the images came from: a folder (its path is not recorded) or an archive URL. */
  source: z.union([
    z.object({ kind: z.literal("folder") }),
    z.object({
      kind: z.literal("archive"),
      url: z.string(),
      sha256: z.string(),
      via: z.enum(["mirror", "url"]),
    }),
  ]),
  /** The label file: its name as the user gave it, its copy in the artefact, its sha256. */
  labels: z.object({
    name: z.string(),
    file: z.string(),
    format: z.enum(["csv", "jsonl"]),
    sha256: z.string(),
    rows: z.number().int(),
  }).nullable(),
  path_column: z.string(),
  images: z.number().int(),
  /** Images in the folder that no label row names: left out. */
  unlabelled: z.array(z.string()),
  triplet_files: z.array(z.string()),
});
export type Sources = z.infer<typeof Sources>;

export async function writeSources(dir: string, sources: Sources): Promise<void> {
  await Deno.writeTextFile(join(dir, SOURCES_FILE), JSON.stringify(sources, null, 2) + "\n");
}

export async function readSources(dir: string): Promise<Sources> {
  const path = join(dir, SOURCES_FILE);
  const parsed = Sources.safeParse(await readJsonFile(path));
  if (!parsed.success) {
    throw new SyntaxError(`Cannot read "${path}": ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
