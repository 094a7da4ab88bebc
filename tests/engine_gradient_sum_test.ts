/**
 * shared/engine/gradient_sum.ts and heap_read.ts: the host-side sum of micro-batch gradients
 * gives the exact float32 bits of the tfjs ops it replaced (tf.mul by the weight, tf.add onto
 * the running sum, a clone for weight 1), a parameter first reached in a later micro-batch
 * included; heap views read what data() reads, on wasm and native, and are null on cpu.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { GradientSum } from "../shared/engine/gradient_sum.ts";
import { heapView, readFlat } from "../shared/engine/heap_read.ts";
import { quiet } from "./support/tiny_model.ts";
import { values } from "./support/values.ts";

const SIZES = [7, 300, 1];
const backends = probeNative().ok || Deno.env.get("CI")
  ? ["cpu", "wasm", "native"] as const
  : ["cpu", "wasm"] as const;

/** Micro-batch j's gradient of parameter i; parameter 2 is absent from micro-batch 0. */
function grad(i: number, j: number): Float32Array | undefined {
  if (i === 2 && j === 0) return undefined;
  const g = values(SIZES[i]!, 10 * i + j + 1).map((x) => x * 10 ** (j - 1));
  g[0] = -0; // -0 + -0 is -0: a sum that started from +0 would end +0
  return g;
}

/** The sum as the tfjs ops formed it before: clone or mul, then add, per parameter. */
function tfjsSum(weights: readonly number[]): Float32Array[] {
  return tf.tidy(() => {
    const acc: (tf.Tensor | null)[] = SIZES.map(() => null);
    weights.forEach((w, j) => {
      SIZES.forEach((_, i) => {
        const g = grad(i, j);
        if (!g) return;
        const scaled = w === 1 ? tf.clone(tf.tensor1d(g)) : tf.mul(tf.tensor1d(g), w);
        acc[i] = acc[i] ? tf.add(acc[i]!, scaled) : scaled;
      });
    });
    // Never reached: stays zero.
    return acc.map((t, i) => t ? t.dataSync() as Float32Array : new Float32Array(SIZES[i]!));
  });
}

for (const backend of backends) {
  Deno.test(`GradientSum gives the bits of tfjs mul + add on ${backend}`, async () => {
    await selectBackend(backend, quiet);
    for (const weights of [[1], [3 / 7, 3 / 7, 1 / 7], [0.1, 0.9]]) {
      const sum = new GradientSum(SIZES);
      for (const [j, w] of weights.entries()) {
        const grads = SIZES.map((_, i) => {
          const g = grad(i, j);
          return g && tf.tensor1d(g);
        });
        await sum.addAll(grads, w);
        tf.dispose(grads.filter((g): g is tf.Tensor1D => g !== undefined));
      }
      const expected = tfjsSum(weights);
      const values = sum.result();
      let offset = 0;
      expected.forEach((e, i) => {
        const got = values.subarray(offset, offset + e.length);
        assert.deepEqual(got, e, `parameter ${i}, weights ${weights}`);
        offset += e.length;
      });
      assert.ok(Object.is(values[0], -0), "the first term is not added to a +0");
      assert.throws(() => sum.result(), /it has ended/);
    }
    assert.throws(() => new GradientSum(SIZES).add(1, new Float32Array(3), 1), /expected 300/);
  });

  Deno.test(`heapView and readFlat read what data() reads on ${backend}`, async () => {
    await selectBackend(backend, quiet);
    const tensors = SIZES.map((n, i) => tf.tensor1d(values(n, i + 50)));
    const view = heapView(tensors[1]!);
    if (backend === "cpu") assert.equal(view, null);
    else assert.deepEqual(view, tensors[1]!.dataSync());
    const flat = await readFlat(tensors);
    let offset = 0;
    for (const t of tensors) {
      assert.deepEqual(flat.subarray(offset, offset + t.size), t.dataSync());
      offset += t.size;
    }
    assert.equal(heapView(tf.tensor1d([1, 2], "int32")), null, "float32 only");
    tf.dispose(tensors);
  });
}
