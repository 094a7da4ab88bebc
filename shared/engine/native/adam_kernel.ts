/**
 * Adam's update of one parameter in one pass over the heap, instead of eleven tfjs kernels
 * (each a separate pass and allocation). Every operation is rounded to float32 in the order
 * PyTorch and the unfused tfjs ops use, so results are the same bits as the wasm path:
 *   m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g^2
 *   p' = p - (lr / bc1) * m' / (sqrt(v') / sqrt(bc2) + eps)
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs";
import type { AdamScalars, FusedAdam } from "../../model/optim.ts";
import { asHeapBackend, type WasmHeapBackend } from "./heap.ts";
import { NATIVE } from "../choices.ts";

export const NATIVE_ADAM = "NativeAdam";

function floats(b: WasmHeapBackend, t: TensorInfo): Float32Array {
  const size = t.shape.reduce((x, y) => x * y, 1);
  return new Float32Array(b.wasm.HEAPU8.buffer, b.dataIdMap.get(t.dataId)!.memoryOffset, size);
}

export const ADAM_KERNEL: KernelConfig = {
  kernelName: NATIVE_ADAM,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const { p, m, v, g } = inputs as Record<"p" | "m" | "v" | "g", TensorInfo>;
    const s = attrs as unknown as AdamScalars;
    const outs = [p, m, v].map((t) => b.makeOutput([...t.shape], "float32"));
    const [P, M, V, G] = [p, m, v, g].map((t) => floats(b, t)) as Float32Array[];
    const [P2, M2, V2] = outs.map((t) => floats(b, t)) as Float32Array[];
    const f = Math.fround;
    const b1 = f(s.beta1), c1 = f(1 - s.beta1), b2 = f(s.beta2), c2 = f(1 - s.beta2);
    const eps = f(s.epsilon), step = f(s.stepSize), root = f(s.sqrtBc2);
    for (let i = 0; i < P!.length; i++) {
      const gi = G![i]!;
      const mi = f(f(M![i]! * b1) + f(gi * c1));
      const vi = f(f(V![i]! * b2) + f(f(gi * gi) * c2));
      const denom = f(f(f(Math.sqrt(vi)) / root) + eps);
      M2![i] = mi;
      V2![i] = vi;
      P2![i] = f(P![i]! - f(f(mi / denom) * step));
    }
    return outs;
  },
};

export const nativeAdam: FusedAdam = (p, m, v, g, s) =>
  // deno-lint-ignore no-explicit-any
  tf.engine().runKernel(NATIVE_ADAM, { p, m, v, g } as any, { ...s } as any) as unknown as [
    tf.Tensor,
    tf.Tensor,
    tf.Tensor,
  ];
