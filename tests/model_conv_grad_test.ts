/**
 * conv_grad.ts against tfjs's own conv2d and its registered gradients (cpu backend), for
 * strides 1 and 2, kernels 1/3/7, odd and even sizes, PyTorch, "same" and "valid" padding.
 * Tolerance: max |ours - ref| <= 1e-4 * max(1, max |ref|) on each of y, dx and dw.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { conv2d, convGeometry, type Padding } from "../shared/model/conv_grad.ts";
import { selectBackend } from "../shared/engine/backend.ts";
import { values } from "./support/values.ts";
import { maxRelErr } from "./support/compare.ts";

const quiet = () => {};
const TOL = 1e-4;

/** Deterministic values in [-1, 1) so failures reproduce. */

interface Case {
  h: number;
  w: number;
  k: number;
  stride: number;
  pad: Padding;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const stride of [1, 2]) {
    for (const k of [1, 3, 7]) {
      for (const [h, w] of [[9, 9], [10, 8]] as const) {
        out.push({ h, w, k, stride, pad: (k - 1) / 2 }); // PyTorch `padding=(k-1)/2`
        out.push({ h, w, k, stride, pad: "same" });
        if (k <= h) out.push({ h, w, k, stride, pad: "valid" });
      }
    }
  }
  out.push({ h: 11, w: 11, k: 3, stride: 2, pad: { top: 0, bottom: 2, left: 1, right: 0 } });
  return out;
}

interface Result {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

/** y and the gradients of sum(y * r) for either implementation. */
function run(c: Case, ours: boolean): Result {
  const n = 2, ci = 3, co = 4;
  let result: Result | undefined;
  tf.tidy(() => {
    const x = tf.tensor4d(values(n * c.h * c.w * ci, 1), [n, c.h, c.w, ci]);
    const wt = tf.tensor4d(values(c.k * c.k * ci * co, 2), [c.k, c.k, ci, co]);
    const g = convGeometry(c.h, c.w, c.k, c.k, c.stride, c.pad);
    const r = tf.tensor4d(values(n * g.outH * g.outW * co, 3), [n, g.outH, g.outW, co]);
    const pad = typeof c.pad === "object"
      ? [[0, 0], [c.pad.top, c.pad.bottom], [c.pad.left, c.pad.right], [0, 0]] as [
        [number, number],
        [number, number],
        [number, number],
        [number, number],
      ]
      : c.pad;
    const f = (a: tf.Tensor4D, b: tf.Tensor4D) =>
      ours ? conv2d(a, b, { stride: c.stride, pad: c.pad }) : tf.conv2d(a, b, c.stride, pad);
    const y = f(x, wt);
    const [dx, dw] = tf.grads((a, b) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), r)))(
      [x, wt],
    );
    result = {
      y: y.dataSync() as Float32Array,
      dx: dx!.dataSync() as Float32Array,
      dw: dw!.dataSync() as Float32Array,
    };
  });
  return result!;
}

function label(c: Case): string {
  return `${c.h}x${c.w} k${c.k} s${c.stride} pad ${JSON.stringify(c.pad)}`;
}

Deno.test("convGeometry matches PyTorch and TensorFlow output sizes", () => {
  assert.deepEqual(convGeometry(112, 112, 7, 7, 2, 3), {
    top: 3,
    bottom: 3,
    left: 3,
    right: 3,
    outH: 56,
    outW: 56,
  });
  const same = convGeometry(112, 112, 7, 7, 2, "same");
  assert.deepEqual([same.top, same.bottom, same.outH], [2, 3, 56]);
  assert.equal(convGeometry(9, 9, 3, 3, 2, "valid").outH, 4);
  assert.throws(() => convGeometry(3, 3, 7, 7, 1, "valid"), /does not fit/);
  assert.throws(() => convGeometry(9, 9, 3, 3, 0, 1), /stride/);
});

Deno.test("conv2d gradients equal tfjs's conv2d gradients (cpu and wasm backends)", async () => {
  const all = cases();
  await selectBackend("cpu", quiet);
  const refs = all.map((c) => run(c, false));
  for (const backend of ["cpu", "wasm"] as const) {
    await selectBackend(backend, quiet);
    all.forEach((c, i) => {
      const ours = run(c, true);
      const ref = refs[i]!;
      for (const key of ["y", "dx", "dw"] as const) {
        const err = maxRelErr(ours[key], ref[key]);
        assert.ok(err <= TOL, `${backend} ${label(c)}: ${key} relative error ${err} > ${TOL}`);
      }
    });
  }
});

Deno.test("inputGrad: false returns a zero input gradient and the same filter gradient", async () => {
  await selectBackend("cpu", quiet);
  tf.tidy(() => {
    const x = tf.tensor4d(values(2 * 8 * 8 * 3, 4), [2, 8, 8, 3]);
    const w = tf.tensor4d(values(3 * 3 * 3 * 5, 5), [3, 3, 3, 5]);
    const grad = (inputGrad: boolean) =>
      tf.grads((a, b) =>
        tf.sum(
          tf.square(conv2d(a as tf.Tensor4D, b as tf.Tensor4D, { stride: 2, pad: 1, inputGrad })),
        )
      )([x, w]);
    const [dxOn, dwOn] = grad(true);
    const [dxOff, dwOff] = grad(false);
    assert.ok(tf.max(tf.abs(dxOn!)).dataSync()[0]! > 0);
    assert.equal(tf.max(tf.abs(dxOff!)).dataSync()[0], 0);
    assert.deepEqual(dwOff!.dataSync(), dwOn!.dataSync());
  });
});
