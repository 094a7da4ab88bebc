/**
 * fetch.json in a raw artefact: which dataset its files are. The fetch stage writes it and
 * preprocess reads it, so preprocess needs no dataset param (fonts' sources.json is a bare
 * list of files and names no dataset). One line of JSON, as it was always written.
 */
import { join } from "node:path";
import { z } from "zod";
import { jsonArtefact } from "./json_artefact.ts";

export const RAW_FORMAT = "csn-raw/1";

export const RawRecordSchema = z.object({
  format: z.literal(RAW_FORMAT),
  dataset: z.string().min(1),
});

export const rawRecord = jsonArtefact("fetch.json", RawRecordSchema, { indent: 0 });

export async function writeRawMeta(rawDir: string, dataset: string): Promise<void> {
  await rawRecord.write(rawDir, { format: RAW_FORMAT, dataset });
}

/** Which dataset a raw artefact holds, from its fetch.json; one of `known`. */
export async function readRawMeta(rawDir: string, known: readonly string[]): Promise<string> {
  const { dataset } = await rawRecord.read(rawDir);
  if (!known.includes(dataset)) {
    throw new TypeError(
      `Cannot read "${join(rawDir, rawRecord.file)}" (written by the fetch stage): dataset ` +
        `expected one of ${known.join(", ")}, got "${dataset}"`,
    );
  }
  return dataset;
}
