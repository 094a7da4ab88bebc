/**
 * Micro-batch gradients summed into one flat Float32Array (`model.trainable` order), each
 * weighted by its micro-batch's share of the batch. This replaces a tfjs multiply and add per
 * parameter per micro-batch, and a data() copy of each sum at the end. On the wasm and native
 * backends the sum lives in the wasm heap beside the gradients and runs in wasm SIMD
 * (native/sum_simd.ts), then is copied out once; elsewhere it is summed on the host. The
 * rounding is the tfjs ops': acc = f32(acc + f32(g * f32(weight))), the first term
 * f32(g * f32(weight)), a plain copy when the weight is 1.
 */
import * as tf from "@tensorflow/tfjs";
import { heapView } from "./heap_read.ts";
import { heapBackendOf, type WasmHeapBackend } from "./native/heap.ts";
import { heapMemory } from "./native/simd_module.ts";
import { type SimdSum, simdSum } from "./native/sum_simd.ts";

/** tfjs wasm's heap and its allocator. */
type HeapWasm = WasmHeapBackend["wasm"] & {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
};

interface HeapSum {
  readonly wasm: HeapWasm;
  readonly pointer: number;
  readonly simd: SimdSum;
}

export class GradientSum {
  readonly total: number;
  readonly #offsets: number[] = [];
  readonly #seen: boolean[];
  #host: Float32Array | null = null;
  #heap: HeapSum | null = null;
  #ended = false;

  constructor(readonly sizes: readonly number[]) {
    let total = 0;
    for (const size of sizes) this.#offsets.push(total), total += size;
    this.total = total;
    this.#seen = sizes.map(() => false);
  }

  /** Adds `weight` * g to parameter `index`'s slot. */
  add(index: number, g: Float32Array, weight: number): void {
    const size = this.#check(index, g.length);
    this.#addScalar(this.#slot(index), g, Math.fround(weight), this.#first(index), 0, size);
  }

  /** Adds every present gradient of a micro-batch (tensors in parameter order). */
  async addAll(grads: readonly (tf.Tensor | undefined)[], weight: number): Promise<void> {
    const heap = this.#heapSum(); // before any view: allocating may move the heap's buffer
    const views = grads.map((g) => g && heapView(g));
    if (views.every((v, i) => v || !grads[i])) {
      views.forEach((v, i) => {
        if (!v) return;
        if (heap) this.#addSimd(heap, i, v, weight);
        else this.add(i, v, weight);
      });
      return;
    }
    // webgpu and cpu: one wait for every read.
    const read = await Promise.all(grads.map((g) => g?.data()));
    read.forEach((v, i) => v && this.add(i, v as Float32Array, weight));
  }

  /** The weighted sum, `sizes` concatenated; a parameter no micro-batch reached is 0. Ends
   * the sum (its heap memory is freed). */
  result(): Float32Array {
    this.#checkOpen();
    const out = this.#heap
      ? new Float32Array(this.#heap.wasm.HEAPU8.buffer, this.#heap.pointer, this.total).slice()
      : this.#host ?? new Float32Array(this.total);
    this.sizes.forEach((size, i) => {
      if (!this.#seen[i]) out.fill(0, this.#offsets[i]!, this.#offsets[i]! + size);
    });
    this.dispose();
    return out;
  }

  /** Frees the heap memory (idempotent); the sum cannot be used afterwards. */
  dispose(): void {
    if (this.#heap && !this.#ended) this.#heap.wasm._free(this.#heap.pointer);
    this.#ended = true;
  }

  #checkOpen(): void {
    if (this.#ended) throw new Error("Cannot use a gradient sum: it has ended (result or dispose)");
  }

  #check(index: number, length: number): number {
    this.#checkOpen();
    const size = this.sizes[index];
    if (size === undefined || length !== size) {
      throw new RangeError(
        `Cannot add a gradient to parameter ${index}: it has ${length} values, expected ` +
          `${size ?? "a parameter index below " + this.sizes.length}`,
      );
    }
    return size;
  }

  #first(index: number): boolean {
    const first = !this.#seen[index];
    this.#seen[index] = true;
    return first;
  }

  /** The heap-resident sum on wasm and native with SIMD (made on first use), else null. */
  #heapSum(): HeapSum | null {
    this.#checkOpen();
    if (this.#heap || this.#host) return this.#heap;
    const backend = tf.backend();
    const wasm = heapBackendOf(backend)?.wasm as Partial<HeapWasm> | undefined;
    const memory = heapMemory(backend);
    const simd = memory && simdSum(memory);
    if (simd && wasm?._malloc && wasm._free && this.total > 0) {
      this.#heap = { wasm: wasm as HeapWasm, pointer: wasm._malloc(4 * this.total), simd };
    } else this.#host = new Float32Array(this.total);
    return this.#heap;
  }

  /** Parameter `index`'s slot; a view into the heap is valid until tfjs allocates again. */
  #slot(index: number): Float32Array {
    this.#heapSum();
    const at = this.#offsets[index]!, size = this.sizes[index]!;
    if (this.#heap) {
      const buffer = this.#heap.wasm.HEAPU8.buffer;
      return new Float32Array(buffer, this.#heap.pointer + 4 * at, size);
    }
    return this.#host!.subarray(at, at + size);
  }

  #addSimd(heap: HeapSum, index: number, g: Float32Array, weight: number): void {
    const size = this.#check(index, g.length);
    const w = Math.fround(weight); // tf.mul(g, weight) makes the weight a float32 scalar
    const first = this.#first(index);
    const out = this.#slot(index);
    if (first && w === 1) return out.set(g);
    const whole = size - (size % 4);
    if (whole > 0) {
      const loop = first ? heap.simd.scale : heap.simd.accumulate;
      loop(out.byteOffset, g.byteOffset, 4 * whole, w);
    }
    this.#addScalar(out, g, w, first, whole, size);
  }

  /** out[from, to) gets w * g (first) or out + f32(w * g), in float32. */
  #addScalar(
    out: Float32Array,
    g: Float32Array,
    w: number,
    first: boolean,
    from: number,
    to: number,
  ) {
    if (first && w === 1) return out.set(g.subarray(from, to), from);
    const f = Math.fround;
    if (first) {
      for (let i = from; i < to; i++) out[i] = g[i]! * w; // the store rounds to float32
      return;
    }
    for (let i = from; i < to; i++) out[i] = out[i]! + f(g[i]! * w);
  }
}
