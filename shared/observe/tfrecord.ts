/**
 * TFRecord framing: each record is uint64 LE length, masked CRC-32C of those 8 bytes (uint32
 * LE), the data, masked CRC-32C of the data (uint32 LE). TensorBoard event files are a
 * sequence of such records, each holding one serialized Event.
 */
import { maskedCrc32c } from "./crc32c.ts";

export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

export function frameRecords(records: readonly Uint8Array[]): Uint8Array {
  const frames = records.map(frameRecord);
  const out = new Uint8Array(frames.reduce((sum, frame) => sum + frame.length, 0));
  let offset = 0;
  for (const frame of frames) {
    out.set(frame, offset);
    offset += frame.length;
  }
  return out;
}

/**
 * Splits a TFRecord byte stream into its records, checking both CRCs of each. `file` names the
 * source in errors. A torn last record (a writer still appending) is an error too: callers that
 * tail a live file use `readCompleteRecords`.
 */
export function readRecords(bytes: Uint8Array, file: string): Uint8Array[] {
  const { records, end } = readCompleteRecords(bytes, file);
  if (end < bytes.length) {
    const where = `Cannot read TFRecord file "${file}": record ${
      records.length + 1
    } at byte ${end}`;
    const left = bytes.length - end;
    if (left < 12) throw new SyntaxError(`${where}: header needs 12 bytes, ${left} remain`);
    const length = new DataView(bytes.buffer, bytes.byteOffset + end, 8).getBigUint64(0, true);
    throw new SyntaxError(`${where}: ${length} data bytes announced, file ends first`);
  }
  return records;
}

/**
 * The whole records at the start of `bytes` and the offset just past the last of them. An
 * incomplete record at the end is left for a later read (a live file grows by whole records);
 * a CRC mismatch anywhere is corruption and throws.
 */
export function readCompleteRecords(
  bytes: Uint8Array,
  file: string,
): { records: Uint8Array[]; end: number } {
  const records: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset + 12 <= bytes.length) {
    const where = `Cannot read TFRecord file "${file}": record ${
      records.length + 1
    } at byte ${offset}`;
    const length = view.getBigUint64(offset, true);
    const lengthCrc = view.getUint32(offset + 8, true);
    const expectedLengthCrc = maskedCrc32c(bytes.subarray(offset, offset + 8));
    if (lengthCrc !== expectedLengthCrc) {
      throw new SyntaxError(
        `${where}: length CRC is ${hex(lengthCrc)}, expected ${hex(expectedLengthCrc)}`,
      );
    }
    const end = offset + 12 + Number(length) + 4;
    if (end > bytes.length) break;
    const data = bytes.subarray(offset + 12, end - 4);
    const dataCrc = view.getUint32(end - 4, true);
    const expectedDataCrc = maskedCrc32c(data);
    if (dataCrc !== expectedDataCrc) {
      throw new SyntaxError(
        `${where}: data CRC is ${hex(dataCrc)}, expected ${hex(expectedDataCrc)}`,
      );
    }
    records.push(data);
    offset = end;
  }
  return { records, end: offset };
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}
