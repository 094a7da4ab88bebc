/**
 * Torch storages and tensor views as torch.save writes them: decoding a storage's raw bytes
 * into a typed array, and copying a strided view (transpose, slice) into C order.
 */
import { typeName } from "./pickle.ts";
import { ARRAYS, type DType, type SafeTensor, type TensorData } from "./dtype.ts";

/** How each torch storage class is stored (bytes per element) and what it becomes here.
 * Half and bfloat16 widen to F32, int16/int8 to I32, bool to U8 (0/1): no value changes. */
export const STORAGES: Record<string, { bytes: number; dtype: DType }> = {
  FloatStorage: { bytes: 4, dtype: "F32" },
  DoubleStorage: { bytes: 8, dtype: "F64" },
  HalfStorage: { bytes: 2, dtype: "F32" },
  BFloat16Storage: { bytes: 2, dtype: "F32" },
  LongStorage: { bytes: 8, dtype: "I64" },
  IntStorage: { bytes: 4, dtype: "I32" },
  ShortStorage: { bytes: 2, dtype: "I32" },
  CharStorage: { bytes: 1, dtype: "I32" },
  ByteStorage: { bytes: 1, dtype: "U8" },
  BoolStorage: { bytes: 1, dtype: "U8" },
};

export interface Storage {
  readonly key: string;
  readonly dtype: DType;
  readonly data: TensorData;
}

/** A tensor as pickled: a view into a storage, materialised once its name is known. */
export class TensorRef {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
  ) {}
}

function half(bits: number): number {
  const exp = (bits >> 10) & 0x1f, frac = bits & 0x3ff, sign = bits & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A storage's bytes (little- or big-endian) as a typed array of its dtype here. */
export function decodeStorage(raw: Uint8Array, type: string, bigEndian: boolean): TensorData {
  const { bytes, dtype } = STORAGES[type]!;
  const n = raw.length / bytes;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = !bigEndian;
  if (dtype === "U8") return raw.slice();
  if (type === "FloatStorage" && le) return new Float32Array(raw.slice().buffer);
  const out = new ARRAYS[dtype](n);
  for (let i = 0; i < n; i++) {
    const o = i * bytes;
    const v = type === "FloatStorage"
      ? view.getFloat32(o, le)
      : type === "DoubleStorage"
      ? view.getFloat64(o, le)
      : type === "HalfStorage"
      ? half(view.getUint16(o, le))
      : type === "BFloat16Storage"
      ? new Float32Array(new Uint32Array([view.getUint16(o, le) << 16]).buffer)[0]!
      : type === "LongStorage"
      ? view.getBigInt64(o, le)
      : type === "IntStorage"
      ? view.getInt32(o, le)
      : type === "ShortStorage"
      ? view.getInt16(o, le)
      : view.getInt8(o);
    (out as unknown as (number | bigint)[])[i] = v;
  }
  return out;
}

export function ints(v: unknown, what: string, fail: (m: string) => never): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0)) {
    fail(`${what} is ${typeName(v)} ${String(v)}, expected a tuple of non-negative ints`);
  }
  return v as number[];
}

/** C-order copy of a strided view, after checking it stays inside its storage. */
export function materialise(t: TensorRef, name: string, fail: (m: string) => never): SafeTensor {
  const { storage, offset, size, stride } = t;
  if (stride.length !== size.length) {
    fail(`tensor "${name}" has size [${size}] but stride [${stride}]`);
  }
  const count = size.reduce((a, b) => a * b, 1);
  const Ctor = ARRAYS[storage.dtype];
  if (count === 0) return { dtype: storage.dtype, shape: [...size], data: new Ctor(0) };
  const last = offset + size.reduce((s, d, i) => s + (d - 1) * stride[i]!, 0);
  if (last >= storage.data.length) {
    fail(
      `tensor "${name}" (size [${size}], stride [${stride}], offset ${offset}) reads element ` +
        `${last} of storage "${storage.key}", which has ${storage.data.length}`,
    );
  }
  let contiguous = true;
  for (let i = size.length - 1, expect = 1; i >= 0; i--) {
    if (size[i] !== 1 && stride[i] !== expect) contiguous = false;
    expect *= size[i]!;
  }
  if (contiguous) {
    return {
      dtype: storage.dtype,
      shape: [...size],
      data: storage.data.slice(offset, offset + count),
    };
  }
  const src = storage.data as unknown as ArrayLike<number | bigint>;
  const out = new Ctor(count);
  const dst = out as unknown as (number | bigint)[];
  const index = size.map(() => 0);
  let at = offset;
  for (let k = 0; k < count; k++) {
    dst[k] = src[at]!;
    // Odometer over the dimensions, last fastest.
    for (let d = size.length - 1; d >= 0; d--) {
      if (++index[d]! < size[d]!) {
        at += stride[d]!;
        break;
      }
      at -= (size[d]! - 1) * stride[d]!;
      index[d] = 0;
    }
  }
  return { dtype: storage.dtype, shape: [...size], data: out };
}
