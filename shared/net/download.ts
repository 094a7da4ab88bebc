/**
 * Verified, resumable downloads into a cache folder.
 *
 * The request goes through ky, which retries connection failures and retryable statuses with
 * exponential backoff. A body that breaks midway is resumed from the `.part` file with an HTTP
 * Range request; every attempt that brings new bytes resets the failure budget, so a flaky
 * link still finishes. The sha256 is checked before the file is renamed into place, and a
 * cached file is re-hashed on every use (a hit is verified, never trusted).
 */
import ky, { HTTPError, TimeoutError } from "ky";
import { join } from "node:path";
import { sha256File, sha256Hex } from "../util/hash.ts";
import { withFileLock } from "../util/lock.ts";
import { bodyToFile } from "./body_to_file.ts";
import {
  normaliseSha256,
  parseContentRange,
  rangeHeader,
  safeFileName,
  urlBasename,
} from "./http_range.ts";

export interface DownloadOptions {
  url: string;
  /** Pinned sha256 (hex). Without it the file is kept as received and named by the URL. */
  sha256?: string;
  cacheDir: string;
  /** ky retries per request, and body failures without progress tolerated. Default 5. */
  retries?: number;
  /** A folder that may hold the file under the URL's basename: used without network. */
  mirrorDir?: string;
  log: (m: string) => void;
  /** Time to response headers, and the longest silence inside the body. Default 60 s. */
  timeoutMs?: number;
  /** First backoff delay; doubles per retry, capped at 30 s. Default 1000 ms. */
  baseDelayMs?: number;
}

/** The download failed for good; `message` says how to supply the file instead. */
export class DownloadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DownloadError";
  }
}

const MAX_DELAY_MS = 30_000;

/** Returns the path of a verified copy of `url` in `cacheDir`. */
export async function download(opts: DownloadOptions): Promise<string> {
  const sha256 = normaliseSha256(opts.sha256, opts.url);
  const retries = opts.retries ?? 5;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new RangeError(`download retries must be a non-negative integer, got ${retries}`);
  }
  const basename = urlBasename(opts.url);
  const key = sha256 ?? `url-${sha256Hex(opts.url).slice(0, 32)}`;
  const finalPath = join(opts.cacheDir, `${key}-${safeFileName(basename)}`);
  await Deno.mkdir(opts.cacheDir, { recursive: true });
  // One process at a time per file: a second caller waits, then finds the verified file.
  return await withFileLock(`${finalPath}.lock`, async () => {
    if (await isFile(finalPath)) {
      if (sha256 === undefined) {
        opts.log(`download: using cached ${finalPath} (no sha256 pinned, not verified)`);
        return finalPath;
      }
      const actual = await sha256File(finalPath);
      if (actual === sha256) {
        opts.log(`download: using cached ${finalPath} (sha256 verified)`);
        return finalPath;
      }
      opts.log(
        `download: cached ${finalPath} has sha256 ${actual}, expected ${sha256}; refetching`,
      );
      await Deno.remove(finalPath);
    }
    const partPath = `${finalPath}.part`;
    const mirrored = opts.mirrorDir === undefined ? undefined : join(opts.mirrorDir, basename);
    if (mirrored !== undefined && await isFile(mirrored)) {
      opts.log(`download: copying ${mirrored} from the mirror folder (no network)`);
      await Deno.copyFile(mirrored, partPath);
      await verifyAndPlace(partPath, finalPath, sha256, `${opts.url} (mirror file ${mirrored})`);
      return finalPath;
    }
    if (sha256 === undefined && await isFile(partPath)) {
      // Without a pinned hash a stale part from an earlier run could not be checked: restart.
      await Deno.remove(partPath);
    }
    try {
      await fetchToPart(opts, partPath, retries);
    } catch (error) {
      throw new DownloadError(howToSupply(opts.url, basename, sha256, error), { cause: error });
    }
    await verifyAndPlace(partPath, finalPath, sha256, opts.url);
    return finalPath;
  });
}

function howToSupply(url: string, basename: string, sha256: string | undefined, cause: unknown) {
  const pinned = sha256 === undefined ? "" : ` (sha256 ${sha256})`;
  return `Cannot download ${url}: ${describe(cause)}. To supply the file yourself, obtain ` +
    `"${basename}"${pinned} by other means, put it in a folder DIR under that name and pass ` +
    `--set fetch.mirror=DIR`;
}

function describe(error: unknown): string {
  if (error instanceof HTTPError) {
    return `HTTP ${error.response.status} ${error.response.statusText}`.trim();
  }
  if (error instanceof TimeoutError) return "the server did not answer in time";
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : "";
    return `${error.message}${cause}`;
  }
  return String(error);
}

async function verifyAndPlace(
  partPath: string,
  finalPath: string,
  sha256: string | undefined,
  what: string,
): Promise<void> {
  if (sha256 !== undefined) {
    const actual = await sha256File(partPath);
    if (actual !== sha256) {
      await Deno.remove(partPath);
      throw new DownloadError(
        `sha256 mismatch for ${what}: expected ${sha256}, got ${actual}; the file was deleted`,
      );
    }
  }
  await Deno.rename(partPath, finalPath);
}

/** Retryable failure inside the body (dropped connection, stall, short body). */
class BodyError extends Error {}

async function fetchToPart(opts: DownloadOptions, partPath: string, retries: number) {
  const baseDelay = opts.baseDelayMs ?? 1000;
  let failures = 0;
  while (true) {
    const before = await sizeOf(partPath);
    try {
      await fetchOnce(opts, partPath, before, retries, baseDelay);
      return;
    } catch (error) {
      if (!(error instanceof BodyError)) throw error;
      const after = await sizeOf(partPath);
      failures = after > before ? 0 : failures + 1;
      if (failures > retries) throw error;
      // New bytes arrived, so the link works: resume at once; otherwise back off.
      const delay = failures === 0 ? 0 : Math.min(MAX_DELAY_MS, baseDelay * 2 ** (failures - 1));
      opts.log(
        `download: ${opts.url}: ${describe(error)}; have ${after} bytes, resuming in ${delay} ms`,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

async function fetchOnce(
  opts: DownloadOptions,
  partPath: string,
  have: number,
  retries: number,
  baseDelay: number,
): Promise<void> {
  const timeout = opts.timeoutMs ?? 60_000;
  // identity: Range offsets then count bytes of the file itself, not of a compressed stream.
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (have > 0) headers["range"] = rangeHeader(have);
  let response: Response;
  try {
    response = await ky.get(opts.url, {
      headers,
      timeout,
      retry: {
        limit: retries,
        retryOnTimeout: true,
        delay: (attempt) => Math.min(MAX_DELAY_MS, baseDelay * 2 ** (attempt - 1)),
      },
    });
  } catch (error) {
    if (error instanceof HTTPError && error.response.status === 416 && have > 0) {
      const range = parseContentRange(error.response.headers.get("content-range"));
      if (range?.total === have) return; // the part already holds the whole file
      await Deno.remove(partPath);
      throw new BodyError(`the server refused a resume from byte ${have}; restarting`);
    }
    throw error;
  }
  let append = false;
  let expected: number | undefined;
  if (response.status === 206) {
    const range = parseContentRange(response.headers.get("content-range"));
    if (range === undefined || range.start !== have) {
      await response.body?.cancel();
      await Deno.remove(partPath);
      throw new BodyError(
        `asked for bytes ${have}- but the server sent Content-Range ` +
          `"${response.headers.get("content-range")}"; restarting from byte 0`,
      );
    }
    append = true;
    expected = range.end === undefined ? undefined : range.end + 1;
  } else {
    if (have > 0) opts.log(`download: ${opts.url}: server ignored Range, restarting at byte 0`);
    const length = response.headers.get("content-length");
    expected = length === null ? undefined : Number(length);
  }
  if (response.body === null) throw new BodyError("the response has no body");
  const start = append ? have : 0;
  let nextReport = Date.now() + 10_000;
  let written: number;
  {
    using file = await Deno.open(partPath, {
      write: true,
      create: true,
      append,
      truncate: !append,
    });
    try {
      written = await bodyToFile(response.body, file, timeout, (n) => {
        if (Date.now() < nextReport) return;
        nextReport = Date.now() + 10_000;
        const of = expected === undefined ? "" : ` of ${expected}`;
        opts.log(`download: ${opts.url}: ${start + n}${of} bytes`);
      });
    } catch (error) {
      throw new BodyError(`the connection broke: ${describe(error)}`, { cause: error });
    }
  }
  const total = start + written;
  if (expected !== undefined && total < expected) {
    throw new BodyError(`the connection closed after ${total} of ${expected} bytes`);
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}
