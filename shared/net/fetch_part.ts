/**
 * One file fetched into a `.part` file with ky: retries with exponential backoff, a body that
 * breaks midway resumed with an HTTP Range request (every attempt that brings new bytes resets
 * the failure budget), and conditional GETs that may be answered 304.
 */
import ky, { HTTPError, TimeoutError } from "ky";
import { bodyToFile } from "./body_to_file.ts";
import { parseContentRange, rangeHeader } from "./http_range.ts";
import { type Validators, validatorsOf } from "./url_record.ts";

export interface FetchOptions {
  url: string;
  log: (m: string) => void;
  /** Time to response headers, and the longest silence inside the body. Default 60 s. */
  timeoutMs?: number;
  /** First backoff delay; doubles per retry, capped at 30 s. Default 1000 ms. */
  baseDelayMs?: number;
}

const MAX_DELAY_MS = 30_000;

/** A finished fetch: the server's validators, or that it said the cached copy is current. */
export interface FetchOutcome {
  readonly notModified: boolean;
  readonly validators: Validators;
}

export function describe(error: unknown): string {
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

/** Retryable failure inside the body (dropped connection, stall, short body). */
class BodyError extends Error {}

/** Fetches into `partPath`, resuming breaks; `conditional` headers go on the first request. */
export async function fetchToPart(
  opts: FetchOptions,
  partPath: string,
  retries: number,
  conditional: Record<string, string>,
): Promise<FetchOutcome> {
  const baseDelay = opts.baseDelayMs ?? 1000;
  let failures = 0;
  let validators: Validators = {};
  let first = true;
  while (true) {
    const before = await sizeOf(partPath);
    try {
      const extra = first ? conditional : {};
      first = false;
      const result = await fetchOnce(opts, partPath, before, retries, baseDelay, extra, (v) => {
        validators = v;
      });
      return { notModified: result === "not-modified", validators };
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
  opts: FetchOptions,
  partPath: string,
  have: number,
  retries: number,
  baseDelay: number,
  conditional: Record<string, string>,
  onValidators: (validators: Validators) => void,
): Promise<"not-modified" | "fetched"> {
  const timeout = opts.timeoutMs ?? 60_000;
  // identity: Range offsets then count bytes of the file itself, not of a compressed stream.
  const headers: Record<string, string> = { "accept-encoding": "identity", ...conditional };
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
    if (error instanceof HTTPError && error.response.status === 304) {
      if (Object.keys(conditional).length > 0) return "not-modified";
    }
    if (error instanceof HTTPError && error.response.status === 416 && have > 0) {
      const range = parseContentRange(error.response.headers.get("content-range"));
      if (range?.total === have) return "fetched"; // the part already holds the whole file
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
    onValidators(validatorsOf(response.headers));
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
  return "fetched";
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}
