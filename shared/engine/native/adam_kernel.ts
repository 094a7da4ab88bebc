/**
 * Adam's update of every parameter in one kernel call and one pass over the heap, instead of
 * eleven tfjs kernels per parameter (each a separate pass and allocation) or one call per
 * parameter. Every operation is rounded to float32 in the order PyTorch and the unfused tfjs
 * ops use, so results are the same bits as the wasm path:
 *   m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g^2
 *   p' = p - (lr / bc1) * m' / (sqrt(v') / sqrt(bc2) + eps)
 * Inputs p<i>, m<i>, v<i> (and g<i> when the gradients are tensors); a flat gradient array
 * travels as the `flat` attribute. The loop runs in wasm SIMD on the heap (adam_simd.ts), the
 * scalar loop (adam_loop.ts) taking tails of 1-3 values and runtimes without SIMD.
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs";
import type { AdamScalars, FusedAdam } from "../../model/optim.ts";
import { asHeapBackend, heapFloats, heapOffset, type WasmHeapBackend } from "./heap.ts";
import { NATIVE } from "../choices.ts";
import { adamLoop } from "./adam_loop.ts";
import { simdAdam } from "./adam_simd.ts";
import { heapMemory } from "./simd_module.ts";

export const NATIVE_ADAM = "NativeAdam";

interface AdamAttrs extends AdamScalars {
  readonly count: number;
  readonly flat?: Float32Array;
}

/** tfjs's BackendWasm beyond what the other native kernels use. */
interface AdamBackend extends WasmHeapBackend {
  disposeData(dataId: object): boolean;
}

export const ADAM_KERNEL: KernelConfig = {
  kernelName: NATIVE_ADAM,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend) as AdamBackend;
    const s = attrs as unknown as AdamAttrs;
    const input = (name: string) => (inputs as Record<string, TensorInfo>)[name]!;
    const index = Array.from({ length: s.count }, (_, i) => i);
    const p = index.map((i) => input(`p${i}`));
    const state = [...p, ...index.map((i) => input(`m${i}`)), ...index.map((i) => input(`v${i}`))];
    // Every output first: allocating may grow the heap and move its buffer.
    const outs = state.map((t) => b.makeOutput([...t.shape], "float32"));
    const memory = heapMemory(b);
    const simd = memory ? simdAdam(memory) : null;
    // The SIMD loop reads the heap only: a flat gradient is copied in once.
    const staged = simd && s.flat ? b.makeOutput([s.flat.length], "float32") : null;
    if (staged) heapFloats(b, staged).set(s.flat!);
    let offset = 0;
    for (const i of index) {
      const size = tf.util.sizeFromShape(p[i]!.shape);
      const g = staged ?? (s.flat ? null : input(`g${i}`));
      const gFrom = s.flat ? offset : 0;
      offset += size;
      const tensors = [0, 1, 2].map((k) => state[s.count * k + i]!);
      const results = [0, 1, 2].map((k) => outs[s.count * k + i]!);
      const whole = simd ? size - (size % 4) : 0;
      if (simd && whole > 0) {
        const address = (t: TensorInfo, from = 0) => heapOffset(b, t) + 4 * from;
        const f = Math.fround;
        simd(
          ...tensors.map((t) => address(t)),
          address(g!, gFrom),
          ...results.map((t) => address(t)),
          4 * whole,
          ...[s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2, s.epsilon, s.stepSize, s.sqrtBc2].map(f),
        );
      }
      if (whole === size) continue;
      const gTail = g
        ? heapFloats(b, g, gFrom + whole, size - whole)
        : s.flat!.subarray(gFrom + whole, gFrom + size);
      const [P, M, V] = tensors.map((t) => heapFloats(b, t, whole));
      const [P2, M2, V2] = results.map((t) => heapFloats(b, t, whole));
      adamLoop([P!, M!, V!, gTail], [P2!, M2!, V2!], s);
    }
    if (staged) b.disposeData(staged.dataId);
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
