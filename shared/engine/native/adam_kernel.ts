/**
 * Adam's update of every parameter in one kernel call and one pass over the heap, instead of
 * eleven tfjs kernels per parameter (each a separate pass and allocation) or one call per
 * parameter. Every operation is rounded to float32 in the order PyTorch and the unfused tfjs
 * ops use, so results are the same bits as the wasm path:
 *   m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g^2
 *   p' = p - (lr / bc1) * m' / (sqrt(v') / sqrt(bc2) + eps)
 * Inputs p<i>, m<i>, v<i> (and g<i> when the gradients are tensors); a flat gradient array
 * travels as the `flat` attribute and is read where it lies, never copied into the heap.
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs";
import type { AdamScalars, FusedAdam } from "../../model/optim.ts";
import { asHeapBackend, type WasmHeapBackend } from "./heap.ts";
import { NATIVE } from "../choices.ts";
import { adamLoop } from "./adam_loop.ts";

export const NATIVE_ADAM = "NativeAdam";

interface AdamAttrs extends AdamScalars {
  readonly count: number;
  readonly flat?: Float32Array;
}

function floats(b: WasmHeapBackend, t: TensorInfo): Float32Array {
  const size = t.shape.reduce((x, y) => x * y, 1);
  return new Float32Array(b.wasm.HEAPU8.buffer, b.dataIdMap.get(t.dataId)!.memoryOffset, size);
}

export const ADAM_KERNEL: KernelConfig = {
  kernelName: NATIVE_ADAM,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const s = attrs as unknown as AdamAttrs;
    const input = (name: string) => (inputs as Record<string, TensorInfo>)[name]!;
    const index = Array.from({ length: s.count }, (_, i) => i);
    const p = index.map((i) => input(`p${i}`));
    const state = [...p, ...index.map((i) => input(`m${i}`)), ...index.map((i) => input(`v${i}`))];
    // Every output first: allocating may grow the heap and move its buffer.
    const outs = state.map((t) => b.makeOutput([...t.shape], "float32"));
    let offset = 0;
    for (const i of index) {
      const size = p[i]!.shape.reduce((x, y) => x * y, 1);
      const g = s.flat ? s.flat.subarray(offset, offset + size) : floats(b, input(`g${i}`));
      offset += size;
      const at = (k: number) => s.count * k + i;
      adamLoop(
        [floats(b, state[at(0)]!), floats(b, state[at(1)]!), floats(b, state[at(2)]!), g],
        [floats(b, outs[at(0)]!), floats(b, outs[at(1)]!), floats(b, outs[at(2)]!)],
        s,
      );
    }
    return outs;
  },
};

export const nativeAdam: FusedAdam = (params, m, v, g, s) => {
  const inputs: Record<string, tf.Tensor> = {};
  params.forEach((t, i) => {
    inputs[`p${i}`] = t, inputs[`m${i}`] = m[i]!, inputs[`v${i}`] = v[i]!;
    if (!(g instanceof Float32Array)) inputs[`g${i}`] = g[i]!;
  });
  const attrs = { ...s, count: params.length, flat: g instanceof Float32Array ? g : undefined };
  // deno-lint-ignore no-explicit-any
  const outs = tf.engine().runKernel(NATIVE_ADAM, inputs as any, attrs as any) as tf.Tensor[];
  const n = params.length;
  return { params: outs.slice(0, n), m: outs.slice(n, 2 * n), v: outs.slice(2 * n) };
};
