/**
 * TensorBoard Summary.Value kinds beyond plain scalars, hand-encoded with their proto field
 * numbers (tensorflow/core/framework/summary.proto, tensor.proto, and the text and hparams
 * plugins' protos):
 *   Value     { tag = 1; simple_value = 2 (float); image = 4; histo = 5; tensor = 8; metadata = 9 }
 *   Image     { height = 1; width = 2; colorspace = 3; encoded_image_string = 4 }
 *   Histogram { min = 1; max = 2; num = 3; sum = 4; sum_squares = 5; bucket_limit = 6; bucket = 7 }
 *   Metadata  { plugin_data = 1 { plugin_name = 1; content = 2 } }
 *   Tensor    { dtype = 1; tensor_shape = 2 { dim = 2 { size = 1 } }; string_val = 8 }
 * A Value is returned already serialised so an Event can carry any mix of kinds.
 */
import { ProtoWriter } from "./protobuf.ts";

/** A serialised Summary.Value. */
export type EncodedValue = Uint8Array;

export function scalarValue(tag: string, value: number): EncodedValue {
  return new ProtoWriter().string(1, tag).float(2, value).finish();
}

/** A PNG image; `channels` 1 (gray), 3 (RGB) or 4 (RGBA) is the Image colorspace. */
export function imageValue(
  tag: string,
  png: Uint8Array,
  size: { height: number; width: number; channels: number },
): EncodedValue {
  const image = new ProtoWriter()
    .int64(1, size.height)
    .int64(2, size.width)
    .int64(3, size.channels)
    .bytes(4, png)
    .finish();
  return new ProtoWriter().string(1, tag).bytes(4, image).finish();
}

export interface Histogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  /** Right edge of each bucket, increasing; the last bucket holds everything above. */
  bucketLimit: number[];
  bucket: number[];
}

/**
 * Counts `values` into `buckets` equal-width buckets between their min and max (one bucket
 * when all values are equal). Non-finite values are refused: a histogram of NaNs is a bug.
 */
export function histogramOf(values: ArrayLike<number>, buckets = 30): Histogram {
  if (values.length === 0) throw new RangeError("Cannot make a histogram: there are no values");
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`Cannot make a histogram: value ${i} is ${v}`);
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSquares += v * v;
  }
  const n = max > min ? buckets : 1;
  const width = (max - min) / n;
  const bucketLimit = Array.from(
    { length: n },
    (_, i) => (i === n - 1 ? max : min + width * (i + 1)),
  );
  const counts = new Float64Array(n);
  if (n === 1) counts[0] = values.length;
  else {
    const perUnit = n / (max - min);
    for (let i = 0; i < values.length; i++) {
      const k = Math.floor((values[i]! - min) * perUnit);
      counts[k < n ? k : n - 1]!++;
    }
  }
  const bucket = Array.from(counts);
  return { min, max, num: values.length, sum, sumSquares, bucketLimit, bucket };
}

function packedDoubles(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat64(i * 8, v, true));
  return out;
}

export function histogramValue(tag: string, h: Histogram): EncodedValue {
  const histo = new ProtoWriter()
    .double(1, h.min)
    .double(2, h.max)
    .double(3, h.num)
    .double(4, h.sum)
    .double(5, h.sumSquares)
    .bytes(6, packedDoubles(h.bucketLimit))
    .bytes(7, packedDoubles(h.bucket))
    .finish();
  return new ProtoWriter().string(1, tag).bytes(5, histo).finish();
}

function pluginMetadata(plugin: string, content: Uint8Array): Uint8Array {
  const data = new ProtoWriter().string(1, plugin);
  if (content.length > 0) data.bytes(2, content);
  return new ProtoWriter().bytes(1, data.finish()).finish();
}

const DT_STRING = 7;

/** Text (markdown) for TensorBoard's Text tab: a one-element DT_STRING tensor. */
export function textValue(tag: string, text: string): EncodedValue {
  const shape = new ProtoWriter().bytes(2, new ProtoWriter().int64(1, 1).finish()).finish();
  const tensor = new ProtoWriter()
    .int64(1, DT_STRING)
    .bytes(2, shape)
    .bytes(8, new TextEncoder().encode(text))
    .finish();
  return new ProtoWriter()
    .string(1, tag)
    .bytes(8, tensor)
    .bytes(9, pluginMetadata("text", new Uint8Array()))
    .finish();
}

/** A Value whose only payload is plugin metadata (how the hparams plugin stores its data). */
export function pluginValue(tag: string, plugin: string, content: Uint8Array): EncodedValue {
  return new ProtoWriter().string(1, tag).bytes(9, pluginMetadata(plugin, content)).finish();
}
