/**
 * The element types weights files hold here, and the one table of their widths and typed
 * arrays that the safetensors codec and the torch storage reader share.
 */

export type DType = "F64" | "F32" | "I64" | "I32" | "U8";

export type TensorData = Float64Array | Float32Array | BigInt64Array | Int32Array | Uint8Array;

/** A named tensor's values, C order, as a weights file holds them. */
export interface SafeTensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** Bytes per element of each dtype. */
export const BYTES: Readonly<Record<DType, number>> = { F64: 8, F32: 4, I64: 8, I32: 4, U8: 1 };

/** The typed array that holds each dtype. */
export const ARRAYS = {
  F64: Float64Array,
  F32: Float32Array,
  I64: BigInt64Array,
  I32: Int32Array,
  U8: Uint8Array,
} as const;

export function isDType(s: unknown): s is DType {
  return typeof s === "string" && Object.hasOwn(BYTES, s);
}
