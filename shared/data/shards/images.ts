/** Reading chosen images from shards as normalised float32 (no flip): evaluation's input. */
import { normalisationTable, normaliseImage } from "./normalise.ts";
import type { ShardSet } from "./reader.ts";
import type { RecordReader } from "./record_reader.ts";

/** Images `ids`, HWC after HWC, each pixel (x / 255 - mean[c]) / std[c]. */
export function readNormalised(
  shards: ShardSet,
  reader: RecordReader,
  ids: Int32Array,
  mean: readonly number[],
  std: readonly number[],
): Float32Array {
  const lut = normalisationTable(mean, std, shards.channels);
  const pixels = shards.height * shards.width * shards.channels;
  const raw = new Uint8Array(ids.length * shards.recordBytes);
  reader.readInto(ids, raw);
  const images = new Float32Array(ids.length * pixels);
  for (let i = 0; i < ids.length; i++) {
    normaliseImage(
      raw,
      i * shards.recordBytes,
      images,
      i * pixels,
      shards.height,
      shards.width,
      shards.channels,
      lut,
      false,
    );
  }
  return images;
}
