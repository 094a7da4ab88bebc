/** Pure helpers for HTTP Range resumes: request header, Content-Range parsing, cache names. */

export interface ContentRange {
  /** First byte of the body within the whole file. */
  readonly start: number;
  /** Last byte (inclusive); undefined for the unsatisfied form `bytes * /total`. */
  readonly end?: number;
  /** Whole file size; undefined when the server sent `/*`. */
  readonly total?: number;
}

/** `Range` header asking for everything from byte `from` on. */
export function rangeHeader(from: number): string {
  return `bytes=${from}-`;
}

/**
 * Parses `Content-Range: bytes 100-199/1000` (206) or `bytes * /1000` (416).
 * Returns undefined for a missing or malformed header so callers can restart from byte 0.
 */
export function parseContentRange(header: string | null): ContentRange | undefined {
  if (header === null) return undefined;
  const unsatisfied = /^bytes \*\/(\d+)$/i.exec(header.trim());
  if (unsatisfied) return { start: -1, total: Number(unsatisfied[1]) };
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/i.exec(header.trim());
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  const total = match[3] === "*" ? undefined : Number(match[3]);
  if (end < start || (total !== undefined && end >= total)) return undefined;
  return { start, end, total };
}

/** The last path segment of a URL, decoded; "download" when the path ends in "/". */
export function urlBasename(url: string): string {
  const path = new URL(url).pathname;
  const last = path.slice(path.lastIndexOf("/") + 1);
  // Decoding can yield separators ("%2F"): keep the name one plain path segment.
  const name = decodeURIComponent(last).replace(/[/\\\0]/g, "_");
  return name === "" || name === "." || name === ".." ? "download" : name;
}

/** A basename made safe for any filesystem (no separators, no control characters). */
export function safeFileName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  return safe === "" ? "download" : safe.slice(0, 120);
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Lower-cases and validates a pinned sha256; throws a TypeError naming the URL otherwise. */
export function normaliseSha256(sha256: string | undefined, url: string): string | undefined {
  if (sha256 === undefined || sha256 === "") return undefined;
  const lower = sha256.trim().toLowerCase();
  if (!SHA256_HEX.test(lower)) {
    throw new TypeError(
      `Cannot pin sha256 "${sha256}" for ${url}: expected 64 hexadecimal characters`,
    );
  }
  return lower;
}
