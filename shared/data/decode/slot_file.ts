/**
 * The decoded pixel file written slot by slot: a file pre-sized to count * bytesPerImage
 * (sparse: unwritten slots read as zeros) and positional writes of consecutive slots, so
 * decode workers can write what they finish in any order without the pixels passing
 * through one process's memory.
 */

/** Creates (or truncates) `path` to `bytes` bytes of zeros. */
export async function presizeFile(path: string, bytes: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    await file.truncate(bytes);
  } finally {
    file.close();
  }
}

/** Writes all of `data` at byte `offset` of the open `file`. */
export function writeAt(file: Deno.FsFile, offset: number, data: Uint8Array): void {
  file.seekSync(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < data.length) done += file.writeSync(data.subarray(done));
}

/** Reads `length` bytes at byte `offset` of the open `file` into a new array. */
export function readAt(file: Deno.FsFile, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  file.seekSync(offset, Deno.SeekMode.Start);
  let done = 0;
  while (done < length) {
    const n = file.readSync(out.subarray(done));
    if (n === null) {
      throw new RangeError(
        `Cannot read ${length} bytes at offset ${offset}: the file ends after ${offset + done}`,
      );
    }
    done += n;
  }
  return out;
}

/**
 * Removes the slots in `drop` from the pixel file at `path` (count slots of `bytesPerImage`),
 * moving the kept ones forward in order, then truncates it; memory stays at one chunk.
 */
export async function compactSlots(
  path: string,
  count: number,
  bytesPerImage: number,
  drop: ReadonlySet<number>,
): Promise<number> {
  const file = await Deno.open(path, { read: true, write: true });
  try {
    let target = 0;
    let slot = 0;
    while (slot < count) {
      if (drop.has(slot)) {
        slot++;
        continue;
      }
      // A run of kept slots, at most 64 at a time.
      let end = slot;
      while (end < count && end - slot < 64 && !drop.has(end)) end++;
      if (target !== slot) {
        const run = readAt(file, slot * bytesPerImage, (end - slot) * bytesPerImage);
        writeAt(file, target * bytesPerImage, run);
      }
      target += end - slot;
      slot = end;
    }
    await file.truncate(target * bytesPerImage);
    return target;
  } finally {
    file.close();
  }
}
