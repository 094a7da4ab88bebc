/**
 * The stage cache: an entry per key (data/cache/<key>.json, or <prefix>/cache/ in a bucket)
 * says which artefacts a stage run with that key made. An entry is only a pointer; a hit also
 * needs every output to verify intact.
 */
import { z } from "zod";
import type { Project } from "./project.ts";

export const KeyPartsSchema = z.object({
  stage: z.string(),
  code: z.string(),
  params: z.record(z.string(), z.unknown()),
  inputs: z.record(z.string(), z.string()),
  runtime: z.record(z.string(), z.unknown()),
});
export type KeyParts = z.output<typeof KeyPartsSchema>;

export const CacheEntrySchema = z.object({
  key: z.string(),
  parts: KeyPartsSchema,
  outputs: z.record(z.string(), z.string()),
  metrics: z.record(z.string(), z.unknown()).default({}),
  publish: z.record(z.string(), z.array(z.string())).default({}),
  seconds: z.number(),
  created: z.string(),
});
export type CacheEntry = z.output<typeof CacheEntrySchema>;

/** The entry for `key`, or undefined; an unreadable entry counts as absent (a miss). */
export async function readCacheEntry(
  project: Project,
  key: string,
): Promise<CacheEntry | undefined> {
  const text = await project.entries.read(key);
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  const parsed = CacheEntrySchema.safeParse(raw);
  return parsed.success && parsed.data.key === key ? parsed.data : undefined;
}

export async function writeCacheEntry(project: Project, entry: CacheEntry): Promise<void> {
  await project.entries.write(entry.key, JSON.stringify(entry, null, 1));
}
