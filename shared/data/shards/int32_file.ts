/**
 * Little-endian Int32 files (labels, triplet quads): encode, decode and read with size checks.
 * On little-endian hosts (all we run on) encoding is a plain byte copy; the loop is the
 * portable fallback.
 */
import { readFile, writeFile } from "node:fs/promises";

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Int32 values as little-endian bytes (a copy). */
export function encodeInt32LE(values: Int32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  if (LITTLE_ENDIAN) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return out;
  }
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i]!, true);
  return out;
}

/** Little-endian bytes as Int32 values (a copy); `file` names the source in errors. */
export function decodeInt32LE(bytes: Uint8Array, file: string): Int32Array {
  if (bytes.length % 4 !== 0) {
    throw new RangeError(
      `Cannot read int32 file "${file}": size ${bytes.length} bytes is not a multiple of 4`,
    );
  }
  const out = new Int32Array(bytes.length / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, true);
  return out;
}

/** Reads an int32 file, checking it holds exactly `expectedValues` values when given. */
export async function readInt32File(path: string, expectedValues?: number): Promise<Int32Array> {
  const bytes = await readFile(path);
  const values = decodeInt32LE(bytes, path);
  if (expectedValues !== undefined && values.length !== expectedValues) {
    throw new RangeError(
      `Cannot read int32 file "${path}": holds ${values.length} values, expected ${expectedValues}`,
    );
  }
  return values;
}

export async function writeInt32File(path: string, values: Int32Array): Promise<void> {
  await writeFile(path, encodeInt32LE(values));
}
