/**
 * What a download without a pinned sha256 remembers about its URL: the sha256 and size it
 * received, and the server's validators (ETag, Last-Modified), so that the next use can ask the
 * server whether the file changed (a conditional GET) instead of trusting the old copy.
 */
import { join } from "node:path";
import { z } from "zod";
import { sha256Hex } from "../util/hash.ts";
import { readJsonIfExists, writeFileAtomic } from "../util/fs.ts";

export const UrlRecordSchema = z.object({
  format: z.literal("csn-url/1"),
  url: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().min(0),
  etag: z.string().optional(),
  last_modified: z.string().optional(),
  fetched: z.string(),
});
export type UrlRecord = z.output<typeof UrlRecordSchema>;

/** Validators of a response worth keeping. */
export interface Validators {
  readonly etag?: string;
  readonly last_modified?: string;
}

export function validatorsOf(headers: Headers): Validators {
  const etag = headers.get("etag") ?? undefined;
  const lastModified = headers.get("last-modified") ?? undefined;
  return {
    ...(etag ? { etag } : {}),
    ...(lastModified ? { last_modified: lastModified } : {}),
  };
}

/** Request headers that make a GET conditional on the recorded validators (empty: none known). */
export function conditionalHeaders(record: Validators): Record<string, string> {
  const headers: Record<string, string> = {};
  if (record.etag) headers["if-none-match"] = record.etag;
  if (record.last_modified) headers["if-modified-since"] = record.last_modified;
  return headers;
}

/** The record file of `url` in `cacheDir` (named by the URL's hash: no path enters it). */
export function urlRecordPath(cacheDir: string, url: string): string {
  return join(cacheDir, `url-${sha256Hex(url).slice(0, 32)}.json`);
}

/** The record, or undefined when absent or unreadable (a damaged record is a miss). */
export async function readUrlRecord(path: string, url: string): Promise<UrlRecord | undefined> {
  let raw: unknown;
  try {
    raw = await readJsonIfExists(path);
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  const parsed = UrlRecordSchema.safeParse(raw);
  return parsed.success && parsed.data.url === url ? parsed.data : undefined;
}

export async function writeUrlRecord(path: string, record: UrlRecord): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(record, null, 2) + "\n");
}
