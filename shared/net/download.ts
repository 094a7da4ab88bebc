/**
 * Verified, resumable downloads into a cache folder.
 *
 * The request goes through ky, which retries connection failures and retryable statuses with
 * exponential backoff. A body that breaks midway is resumed from the `.part` file with an HTTP
 * Range request; every attempt that brings new bytes resets the failure budget, so a flaky
 * link still finishes. What is reused, and how it is checked:
 * - a mirror folder's file is read from the mirror every time (never from an older copy),
 *   checked against the pinned sha256 when there is one; a named mirror without the file is
 *   an error, never a fall-through to the network;
 * - with a pinned sha256 the cached file (named by that hash) is re-hashed on every use;
 * - without one, the cached file (named by the hash it had when received) is reused only after
 *   the server confirms it is unchanged (a conditional GET on its ETag / Last-Modified); a
 *   server without validators means a full refetch, and no network means a clear error, never
 *   a silent reuse;
 * - `refetch` ignores the cache.
 */
import { join } from "node:path";
import { sha256File } from "../util/hash.ts";
import { withFileLock } from "../util/lock.ts";
import { describe, type FetchOptions, type FetchOutcome, fetchToPart } from "./fetch_part.ts";
import { normaliseSha256, safeFileName, urlBasename } from "./http_range.ts";
import { checkMirror, MirrorError } from "./mirror_hashes.ts";
import { conditionalHeaders, readUrlRecord, urlRecordPath, writeUrlRecord } from "./url_record.ts";

export interface DownloadOptions extends FetchOptions {
  /** Pinned sha256 (hex). Without it the server is asked on each use whether the file changed. */
  sha256?: string;
  cacheDir: string;
  /** A folder holding the file under the URL's basename: used without network, or an error. */
  mirrorDir?: string;
  /** Fetch again even when a cached copy exists. */
  refetch?: boolean;
  /** ky retries per request, and body failures without progress tolerated. Default 5. */
  retries?: number;
}

/** The download failed for good; `message` says how to supply the file instead. */
export class DownloadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DownloadError";
  }
}

/** Returns the path of a checked copy of `url`: the mirror's file, or one in `cacheDir`. */
export async function download(opts: DownloadOptions): Promise<string> {
  const sha256 = normaliseSha256(opts.sha256, opts.url);
  const retries = opts.retries ?? 5;
  if (!Number.isInteger(retries) || retries < 0) {
    throw new RangeError(
      `Cannot download ${opts.url}: retries must be a whole number >= 0, got ${retries}`,
    );
  }
  const basename = urlBasename(opts.url);
  if (opts.mirrorDir !== undefined) {
    const mirrored = join(opts.mirrorDir, basename);
    try {
      await checkMirror(opts.mirrorDir, [opts.url]);
    } catch (error) {
      if (error instanceof MirrorError) throw new DownloadError(error.message, { cause: error });
      throw error;
    }
    if (sha256 !== undefined) {
      const actual = await sha256File(mirrored);
      if (actual !== sha256) {
        throw new DownloadError(
          `Cannot use mirror file ${mirrored} for ${opts.url}: its sha256 is ${actual}, ` +
            `expected ${sha256}`,
        );
      }
    }
    opts.log(`download: reading ${mirrored} from the mirror folder (no network)`);
    return mirrored;
  }
  await Deno.mkdir(opts.cacheDir, { recursive: true });
  return sha256 === undefined
    ? await unpinned(opts, basename, retries)
    : await pinned(opts, sha256, basename, retries);
}

async function pinned(opts: DownloadOptions, sha256: string, basename: string, retries: number) {
  const finalPath = join(opts.cacheDir, `${sha256}-${safeFileName(basename)}`);
  // One process at a time per file: a second caller waits, then finds the verified file.
  return await withFileLock(`${finalPath}.lock`, async () => {
    if (await isFile(finalPath)) {
      const actual = await sha256File(finalPath);
      if (actual === sha256 && !opts.refetch) {
        opts.log(`download: using cached ${finalPath} (sha256 verified)`);
        return finalPath;
      }
      if (actual !== sha256) {
        opts.log(`download: cached ${finalPath} has sha256 ${actual}, expected ${sha256}`);
      }
      await Deno.remove(finalPath);
    }
    const partPath = `${finalPath}.part`;
    if (opts.refetch) await removeIfPresent(partPath);
    await fetchOrExplain(opts, partPath, retries, basename, sha256);
    const actual = await sha256File(partPath);
    if (actual !== sha256) {
      await Deno.remove(partPath);
      throw new DownloadError(
        `Cannot download ${opts.url}: its sha256 is ${actual}, expected ${sha256}; the file ` +
          "was deleted",
      );
    }
    await Deno.rename(partPath, finalPath);
    return finalPath;
  });
}

async function unpinned(opts: DownloadOptions, basename: string, retries: number) {
  const recordPath = urlRecordPath(opts.cacheDir, opts.url);
  const named = (sha: string) => join(opts.cacheDir, `${sha}-${safeFileName(basename)}`);
  return await withFileLock(`${recordPath}.lock`, async () => {
    const record = await readUrlRecord(recordPath, opts.url);
    const previous = record && await isFile(named(record.sha256)) ? named(record.sha256) : "";
    const partPath = `${recordPath}.part`;
    // Without a pinned hash a part from an earlier run could not be checked: restart.
    await removeIfPresent(partPath);
    let conditional: Record<string, string> = {};
    if (record && previous && !opts.refetch) {
      if ((await sha256File(previous)) !== record.sha256) {
        opts.log(`download: cached ${previous} no longer matches its recorded sha256; refetching`);
      } else {
        conditional = conditionalHeaders(record);
        if (Object.keys(conditional).length === 0) {
          opts.log(`download: ${opts.url} gave no ETag or Last-Modified; fetching it again`);
        }
      }
    }
    const asked = Object.keys(conditional).length > 0;
    let outcome: FetchOutcome;
    try {
      outcome = await fetchToPart(opts, partPath, retries, conditional);
    } catch (error) {
      const reuse = asked
        ? ` The cached copy (sha256 ${record!.sha256}) was not reused because the server could ` +
          `not confirm it is current; pin that sha256 to use it without network.`
        : "";
      throw new DownloadError(howToSupply(opts.url, basename, undefined, error) + reuse, {
        cause: error,
      });
    }
    if (outcome.notModified && record && previous) {
      opts.log(`download: ${opts.url} is unchanged (server said 304); using ${previous}`);
      return previous;
    }
    const sha256 = await sha256File(partPath);
    const bytes = (await Deno.stat(partPath)).size;
    const finalPath = named(sha256);
    await Deno.rename(partPath, finalPath);
    if (previous && previous !== finalPath) await removeIfPresent(previous);
    await writeUrlRecord(recordPath, {
      format: "csn-url/1",
      url: opts.url,
      sha256,
      bytes,
      ...outcome.validators,
      fetched: new Date().toISOString(),
    });
    return finalPath;
  });
}

async function fetchOrExplain(
  opts: DownloadOptions,
  partPath: string,
  retries: number,
  basename: string,
  sha256: string | undefined,
): Promise<FetchOutcome> {
  try {
    return await fetchToPart(opts, partPath, retries, {});
  } catch (error) {
    throw new DownloadError(howToSupply(opts.url, basename, sha256, error), { cause: error });
  }
}

function howToSupply(url: string, basename: string, sha256: string | undefined, cause: unknown) {
  const pinned = sha256 === undefined ? "" : ` (sha256 ${sha256})`;
  return `Cannot download ${url}: ${describe(cause)}. To supply the file yourself, obtain ` +
    `"${basename}"${pinned} by other means, put it in a folder DIR under that name and pass ` +
    `--set fetch.mirror=DIR`;
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
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
