/**
 * Tensor values read where they lie. On the wasm and native backends a tensor's bytes sit in
 * the wasm heap at its data's memory offset, so reading them there costs no tfjs call and no
 * intermediate copy (data() copies each tensor out first). Other backends read with data().
 */
import * as tf from "@tensorflow/tfjs";
import { heapBackendOf, heapFloats } from "./native/heap.ts";

/** A float32 tensor's values in place, where the current backend keeps them in a wasm heap;
 * null on other backends. The view is valid only until tfjs allocates again (growing wasm
 * memory replaces the heap's buffer): read it at once. */
export function heapView(t: tf.Tensor): Float32Array | null {
  if (t.dtype !== "float32") return null;
  const backend = heapBackendOf(tf.backend());
  return backend && heapFloats(backend, t);
}

/** The float32 tensors' values concatenated in order, in one new array. */
export async function readFlat(tensors: readonly tf.Tensor[]): Promise<Float32Array> {
  const out = new Float32Array(tensors.reduce((s, t) => s + t.size, 0));
  const views = tensors.map(heapView);
  const read = views.every((v) => v) ? views : await Promise.all(tensors.map((t) => t.data()));
  let offset = 0;
  tensors.forEach((t, i) => {
    out.set(read[i] as Float32Array, offset);
    offset += t.size;
  });
  return out;
}
