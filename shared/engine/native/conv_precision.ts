/**
 * The data type this thread's convolutions compute in (fp32, or bf16 for mixed-precision
 * training) and the memory descriptors that follow from it. Tensors stay fp32 in tfjs: a
 * bf16 convolution's inputs are reordered (rounded) to bf16 in the scratch arena on the way
 * in, and its outputs (activations, input and weight gradients) are written in fp32.
 */
import type { Dnnl } from "./dnnl.ts";
import { checkPrecision, type Precision } from "../precision.ts";

/** dnnl_data_type_t's bf16 (oneDNN 2.x: undef 0, f16 1, bf16 2, f32 3). */
export const DATA_BF16 = 2;

let current: Precision = "fp32";

/** Sets this thread's convolution precision; bf16 is refused where oneDNN has no bf16 ISA. */
export function setConvPrecision(dnnl: Dnnl, precision: Precision): void {
  checkPrecision(precision, "native", dnnl.info.isa);
  current = precision;
}

export function convPrecision(): Precision {
  return current;
}

/** A memory descriptor of `dims` in `tag`'s order, in the compute data type (what a
 * convolution reads: its input, weights and incoming gradient). */
export function computeDesc(dnnl: Dnnl, dims: readonly number[], tag: number): Uint8Array {
  return current === "fp32" ? dnnl.desc(dims, tag) : dnnl.desc(dims, tag, DATA_BF16);
}
