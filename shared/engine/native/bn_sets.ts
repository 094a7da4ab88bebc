/**
 * One batch-norm kernel call over several image sets (the anchor, far and close images of a
 * micro-batch in one pass), each normalised with its own statistics. In NHWC a set is a
 * contiguous slice of the batch, so oneDNN's primitive, built for one set's shape, runs once
 * per set on offset pointers. The scale and shift gradients of the sets are summed here.
 */
import { imagesPerSet } from "../../model/batch_norm.ts";
import type { Dnnl } from "./dnnl.ts";
import type { Pointer } from "./dnnl_abi.ts";

export interface SetGeometry {
  /** One set's NHWC shape: the primitive's. */
  readonly shape: [number, number, number, number];
  readonly sets: number;
  /** Bytes from one set's first value to the next set's. */
  readonly stride: bigint;
}

/** Splits an NHWC batch shape into `sets` equal image sets. */
export function setGeometry(shape: readonly number[], sets: number): SetGeometry {
  const [total, h, w, c] = shape as [number, number, number, number];
  const n = imagesPerSet(total, sets);
  return { shape: [n, h, w, c], sets, stride: BigInt(4 * n * h * w * c) };
}

/**
 * Where the second and later sets write their scale and shift gradients (the first writes
 * straight into the outputs), and their sum into the outputs, in set order, rounding to
 * float32 after every addition as a sum of the sets' gradients in tfjs would.
 */
export class PartialGrads {
  #bytes = new Uint8Array(0);
  #floats = new Float32Array(0);
  #address = 0n;
  #channels = 0;

  /** Room for `sets - 1` pairs of C floats; call before addresses. */
  reserve(dnnl: Dnnl, sets: number, channels: number): void {
    // At least 1 KiB: a typed array that small could live on V8's moving heap.
    const bytes = Math.max(1024, 8 * (sets - 1) * channels);
    if (this.#bytes.byteLength < bytes) {
      this.#bytes = new Uint8Array(bytes);
      this.#floats = new Float32Array(this.#bytes.buffer);
      this.#address = dnnl.addressOf(this.#bytes);
    }
    this.#channels = channels;
  }

  /** The dscale and dshift addresses of set `set` >= 1. */
  addresses(set: number): [Pointer, Pointer] {
    const at = (floats: number) => this.#address + BigInt(4 * floats);
    const pair = 2 * (set - 1) * this.#channels;
    return [at(pair), at(pair + this.#channels)];
  }

  /** Adds sets 1 .. sets-1 into the first set's gradients, in place. */
  sumInto(sets: number, dscale: Float32Array, dshift: Float32Array): void {
    const c = this.#channels, f = Math.fround, p = this.#floats;
    for (let s = 1; s < sets; s++) {
      const pair = 2 * (s - 1) * c;
      for (let k = 0; k < c; k++) {
        dscale[k] = f(dscale[k]! + p[pair + k]!);
        dshift[k] = f(dshift[k]! + p[pair + c + k]!);
      }
    }
  }
}
