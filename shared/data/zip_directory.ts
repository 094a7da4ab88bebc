/**
 * Reads a zip's central directory (including zip64) without loading the archive, so entries
 * can be checked before anything is written and then inflated one at a time.
 */

export interface ZipEntry {
  /** The name as stored (decoded UTF-8, or CP437 for legacy archives). */
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Offset of the entry's local header. */
  readonly localOffset: number;
  readonly isDirectory: boolean;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

/**
 * Reads `length` bytes at `offset`; fails when the file is shorter. `what` opens the message
 * ("Cannot read zip ...").
 */
export async function readAt(
  file: Deno.FsFile,
  offset: number,
  length: number,
  what: string,
): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await file.seek(offset, Deno.SeekMode.Start);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(out.subarray(filled));
    if (n === null) {
      throw new RangeError(`${what}: the archive ends at byte ${offset + filled}, truncated?`);
    }
    filled += n;
  }
  return out;
}

/** Lists the entries of the zip at `path` from its central directory. */
export async function readZipDirectory(file: Deno.FsFile, path: string): Promise<ZipEntry[]> {
  const size = (await file.stat()).size;
  const tailLength = Math.min(size, 22 + U16_MAX);
  const tail = await readAt(file, size - tailLength, tailLength, `Cannot read zip "${path}"`);
  const view = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new SyntaxError(
      `Cannot read zip "${path}": no end-of-central-directory record (not a zip, or truncated)`,
    );
  }
  let count = view.getUint16(eocd + 10, true);
  let cdSize = view.getUint32(eocd + 12, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR) {
      throw new SyntaxError(`Cannot read zip "${path}": zip64 locator missing`);
    }
    const at = Number(view.getBigUint64(locator + 8, true));
    const record = new DataView((await readAt(file, at, 56, `Cannot read zip "${path}"`)).buffer);
    if (record.getUint32(0, true) !== ZIP64_EOCD) {
      throw new SyntaxError(`Cannot read zip "${path}": zip64 end record missing at byte ${at}`);
    }
    count = Number(record.getBigUint64(32, true));
    cdSize = Number(record.getBigUint64(40, true));
    cdOffset = Number(record.getBigUint64(48, true));
  }
  const cd = await readAt(file, cdOffset, cdSize, `Cannot read zip "${path}" central directory`);
  return parseCentralDirectory(cd, count, path);
}

function parseCentralDirectory(cd: Uint8Array, count: number, path: string): ZipEntry[] {
  const view = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > cd.length || view.getUint32(at, true) !== CENTRAL) {
      throw new SyntaxError(
        `Cannot read zip "${path}": central directory entry ${i} of ${count} is malformed`,
      );
    }
    const flags = view.getUint16(at + 8, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const nameBytes = cd.subarray(at + 46, at + 46 + nameLength);
    const name = decodeName(nameBytes, (flags & 0x800) !== 0);
    let size = view.getUint32(at + 24, true);
    let compressedSize = view.getUint32(at + 20, true);
    let localOffset = view.getUint32(at + 42, true);
    // zip64 extra field: the 64-bit values of the fields that hold 0xffffffff, in this order.
    const extraStart = at + 46 + nameLength;
    for (let e = extraStart; e + 4 <= extraStart + extraLength;) {
      const id = view.getUint16(e, true);
      const length = view.getUint16(e + 2, true);
      if (id === 0x0001) {
        let p = e + 4;
        if (size === U32_MAX) size = Number(view.getBigUint64(p, true)), p += 8;
        if (compressedSize === U32_MAX) compressedSize = Number(view.getBigUint64(p, true)), p += 8;
        if (localOffset === U32_MAX) localOffset = Number(view.getBigUint64(p, true));
      }
      e += 4 + length;
    }
    entries.push({
      name,
      flags,
      method: view.getUint16(at + 10, true),
      crc32: view.getUint32(at + 16, true),
      compressedSize,
      size,
      localOffset,
      isDirectory: name.endsWith("/"),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
// The upper half of code page 437, the zip format's legacy name encoding.
const CP437_HIGH = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐" +
  "└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";

function decodeName(bytes: Uint8Array, flaggedUtf8: boolean): string {
  if (flaggedUtf8 || bytes.every((b) => b < 0x80)) return utf8.decode(bytes);
  // Many tools write UTF-8 without setting the flag: prefer it when the bytes are valid UTF-8.
  try {
    return utf8.decode(bytes);
  } catch (error) {
    if (!(error instanceof TypeError)) throw error;
    return Array.from(bytes, (b) => b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80])
      .join("");
  }
}

/**
 * The entry's path relative to the destination, normalised; throws when the name is absolute,
 * has a drive letter or NUL, or climbs out with `..`.
 */
export function safeEntryPath(name: string, zipPath: string): string {
  const slashed = name.replaceAll("\\", "/");
  const refuse = (why: string) =>
    new Error(`Cannot extract zip "${zipPath}": entry "${name}" ${why}; nothing was written`);
  if (slashed.includes("\0")) throw refuse("contains a NUL byte");
  if (slashed.startsWith("/") || /^[A-Za-z]:/.test(slashed)) throw refuse("is an absolute path");
  const parts: string[] = [];
  for (const part of slashed.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) throw refuse("escapes the destination folder");
      parts.pop();
    } else {
      parts.push(part);
    }
  }
  return parts.join("/");
}
