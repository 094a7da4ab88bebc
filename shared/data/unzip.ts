/**
 * Extracts a zip archive entry by entry: the central directory is read and every name checked
 * first (nothing is written if one would land outside the destination), then each entry is
 * inflated on its own (fflate) and its CRC-32 checked, so memory stays near one entry plus an
 * 8 MiB read window even for the ~300 MB image archive.
 */
import { inflateSync } from "fflate";
import { crc32 } from "node:zlib";
import { dirname, join } from "node:path";
import { readAt, readZipDirectory, safeEntryPath, type ZipEntry } from "./zip_directory.ts";

const LOCAL = 0x04034b50;
const WINDOW = 8 << 20;

/**
 * Sequential reader that serves byte ranges from a large window: one syscall per 8 MiB.
 * `what` opens its error messages ("Cannot extract ...").
 */
class WindowReader {
  #start = 0;
  #bytes: Uint8Array = new Uint8Array(0);
  #size: number;
  constructor(private readonly file: Deno.FsFile, size: number, private readonly what: string) {
    this.#size = size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const end = offset + length;
    if (end > this.#size) {
      throw new RangeError(`${this.what}: entry data runs past the end of the archive`);
    }
    if (offset < this.#start || end > this.#start + this.#bytes.length) {
      const windowLength = Math.min(Math.max(WINDOW, length), this.#size - offset);
      this.#bytes = await readAt(this.file, offset, windowLength, this.what);
      this.#start = offset;
    }
    return this.#bytes.subarray(offset - this.#start, end - this.#start);
  }
}

/**
 * Extracts `zipPath` into `destDir` (created if needed) and returns the relative paths of the
 * files written, in archive order.
 */
export async function unzipTo(zipPath: string, destDir: string): Promise<string[]> {
  using file = await Deno.open(zipPath, { read: true });
  const entries = await readZipDirectory(file, zipPath);
  // Check every entry before writing anything.
  const planned = entries.map((entry) => {
    const relative = safeEntryPath(entry.name, zipPath);
    if ((entry.flags & 1) !== 0) {
      throw new Error(`Cannot extract zip "${zipPath}": entry "${entry.name}" is encrypted`);
    }
    if (!entry.isDirectory && entry.method !== 0 && entry.method !== 8) {
      throw new Error(
        `Cannot extract zip "${zipPath}": entry "${entry.name}" uses compression method ` +
          `${entry.method}, expected 0 (stored) or 8 (deflate)`,
      );
    }
    return { entry, relative };
  });
  await Deno.mkdir(destDir, { recursive: true });
  const reader = new WindowReader(file, (await file.stat()).size, `Cannot extract "${zipPath}"`);
  const made = new Set<string>();
  const written: string[] = [];
  for (const { entry, relative } of planned) {
    if (relative === "") continue;
    const target = join(destDir, relative);
    if (entry.isDirectory) {
      await makeDir(target, made);
      continue;
    }
    const data = await readEntry(reader, entry, zipPath);
    await makeDir(dirname(target), made);
    await Deno.writeFile(target, data);
    written.push(relative);
  }
  return written;
}

async function makeDir(path: string, made: Set<string>): Promise<void> {
  if (made.has(path)) return;
  await Deno.mkdir(path, { recursive: true });
  made.add(path);
}

async function readEntry(reader: WindowReader, entry: ZipEntry, zipPath: string) {
  const what = `Cannot extract zip "${zipPath}": entry "${entry.name}"`;
  const header = await reader.read(entry.localOffset, 30);
  const view = new DataView(header.buffer, header.byteOffset, 30);
  if (view.getUint32(0, true) !== LOCAL) {
    throw new SyntaxError(`${what} has no local header at byte ${entry.localOffset}`);
  }
  const dataStart = entry.localOffset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
  const raw = await reader.read(dataStart, entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) {
    data = raw.slice();
  } else {
    try {
      data = inflateSync(raw, { out: new Uint8Array(entry.size) });
    } catch (error) {
      throw new SyntaxError(`${what} cannot be inflated: ${(error as Error).message}`);
    }
  }
  if (data.length !== entry.size) {
    throw new SyntaxError(`${what} inflated to ${data.length} bytes, expected ${entry.size}`);
  }
  const actual = crc32(data) >>> 0;
  if (actual !== entry.crc32) {
    throw new SyntaxError(
      `${what} is corrupt: CRC-32 ${actual.toString(16)}, expected ${entry.crc32.toString(16)}`,
    );
  }
  return data;
}
