/**
 * A correct MaxPoolGrad for tfjs's wasm backend. tfjs-backend-wasm 4.22's own kernel routes
 * gradients to the wrong inputs whenever there is more than one channel (found comparing it
 * with the cpu backend and oneDNN: they agree, wasm is off by up to the gradient's size), so
 * every max-pool in a wasm training step got wrong gradients. This loop over the heap gives
 * each output's gradient to the first maximum of its window, as the cpu backend does.
 */
import * as tf from "@tensorflow/tfjs";
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs";
import { asHeapBackend, heapFloats } from "./native/heap.ts";

export function maxPoolGradKernel(backendName: string): KernelConfig {
  return {
    kernelName: "MaxPoolGrad",
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b = asHeapBackend(backend);
      const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
      const a = attrs as unknown as {
        filterSize: number | [number, number];
        strides: number | [number, number];
        pad: "valid" | "same" | number;
        dimRoundingMode?: "floor" | "round" | "ceil";
      };
      const info = tf.backend_util.computePool2DInfo(
        input.shape as [number, number, number, number],
        a.filterSize,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      const dxInfo = b.makeOutput([...input.shape], "float32");
      const x = heapFloats(b, input), g = heapFloats(b, dy), dx = heapFloats(b, dxInfo);
      dx.fill(0);
      const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
      const { top, left } = info.padInfo;
      const kh = info.effectiveFilterHeight, kw = info.effectiveFilterWidth;
      for (let n = 0; n < info.batchSize; n++) {
        for (let oy = 0; oy < OH; oy++) {
          const y0 = oy * info.strideHeight - top;
          for (let ox = 0; ox < OW; ox++) {
            const x0 = ox * info.strideWidth - left;
            const out = ((n * OH + oy) * OW + ox) * C;
            for (let c = 0; c < C; c++) {
              let best = -Infinity, at = -1;
              for (let ky = Math.max(0, -y0); ky < kh && y0 + ky < H; ky++) {
                const row = (n * H + y0 + ky) * W;
                for (let kx = Math.max(0, -x0); kx < kw && x0 + kx < W; kx++) {
                  const i = (row + x0 + kx) * C + c;
                  if (x[i]! > best) best = x[i]!, at = i;
                }
              }
              if (at >= 0) dx[at]! += g[out + c]!;
            }
          }
        }
      }
      return dxInfo;
    },
  };
}
