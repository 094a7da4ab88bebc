/**
 * fetch.json in a raw artefact: which dataset its files are. The fetch stage writes it and
 * preprocess reads it, so preprocess needs no dataset param (fonts' sources.json is a bare
 * list of files and names no dataset).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

export const RAW_FORMAT = "csn-raw/1";
export const RAW_META_FILE = "fetch.json";

export async function writeRawMeta(rawDir: string, dataset: string): Promise<void> {
  await writeFile(
    join(rawDir, RAW_META_FILE),
    JSON.stringify({ format: RAW_FORMAT, dataset }) + "\n",
  );
}

/** Which dataset a raw artefact holds, from its fetch.json; one of `known`. */
export async function readRawMeta(
  rawDir: string,
  known: readonly [string, ...string[]],
): Promise<string> {
  const file = join(rawDir, RAW_META_FILE);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (e) {
    throw new SyntaxError(
      `Cannot read "${file}" (written by the fetch stage): ${(e as Error).message}`,
    );
  }
  const parsed = z.object({ format: z.literal(RAW_FORMAT), dataset: z.enum(known) })
    .safeParse(json);
  if (!parsed.success) {
    throw new SyntaxError(
      `Cannot read "${file}" (written by the fetch stage): ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data.dataset;
}
