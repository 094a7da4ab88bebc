/**
 * The wasm backend's MaxPoolGrad replacement against a naive float64 loop (first maximum of
 * each window takes the gradient), over channels, strides and paddings. tfjs 4.22's own wasm
 * kernel fails this for more than one channel. Tolerance 1e-6 absolute.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { values } from "./support/values.ts";

function naiveMaxPoolGrad(
  x: Float32Array,
  dy: Float32Array,
  [n, h, w, c]: [number, number, number, number],
  k: number,
  s: number,
  p: number,
): Float64Array {
  const oh = Math.floor((h + 2 * p - k) / s) + 1, ow = Math.floor((w + 2 * p - k) / s) + 1;
  const dx = new Float64Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity, at = -1;
          for (let ky = 0; ky < k; ky++) {
            for (let kx = 0; kx < k; kx++) {
              const y = oy * s - p + ky, xx = ox * s - p + kx;
              if (y < 0 || xx < 0 || y >= h || xx >= w) continue;
              const i = ((b * h + y) * w + xx) * c + ch;
              if (x[i]! > best) best = x[i]!, at = i;
            }
          }
          dx[at]! += dy[((b * oh + oy) * ow + ox) * c + ch]!;
        }
      }
    }
  }
  return dx;
}

Deno.test("wasm max-pool gradient matches a naive loop for any channel count", async () => {
  await selectBackend("wasm", () => {});
  let seed = 1;
  for (const shape of [[1, 9, 9, 1], [2, 9, 9, 4], [1, 10, 7, 16], [2, 6, 6, 3]]) {
    for (const [k, s, p] of [[3, 2, 1], [2, 2, 0], [3, 1, 1]] as const) {
      const x = values(shape.reduce((a, b) => a * b, 1), seed++);
      const dx = tf.tidy(() => {
        const xt = tf.tensor4d(x, shape as [number, number, number, number]);
        const y = tf.maxPool(xt, k, s, p);
        const r = tf.tensor(values(y.size, seed), y.shape);
        return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, k, s, p), r)))(
          xt,
        ).dataSync() as Float32Array;
      });
      const dy = values(
        shape[0]! * (Math.floor((shape[1]! + 2 * p - k) / s) + 1) *
          (Math.floor((shape[2]! + 2 * p - k) / s) + 1) * shape[3]!,
        seed++,
      );
      const ref = naiveMaxPoolGrad(x, dy, shape as [number, number, number, number], k, s, p);
      ref.forEach((v, i) =>
        assert.ok(Math.abs(v - dx[i]!) <= 1e-6, `[${shape}] k${k} s${s} p${p} at ${i}`)
      );
    }
  }
});
