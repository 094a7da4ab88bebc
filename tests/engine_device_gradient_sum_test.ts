/**
 * shared/engine/device_gradient_sum.ts (webgpu, tensorflow and cpu: the micro-batch sum kept
 * on the device, read once) gives the same float32 bits as GradientSum's heap and host sums,
 * a parameter first reached in a later micro-batch and one never reached included (step.ts
 * uses it on those backends: tests/engine_step_test.ts runs it on cpu).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { GradientSum } from "../shared/engine/gradient_sum.ts";
import { DeviceGradientSum } from "../shared/engine/device_gradient_sum.ts";
import { quiet } from "./support/tiny_model.ts";
import { values } from "./support/values.ts";

const SIZES = [5, 129, 3, 2];

/** Micro-batch j's gradient of parameter i: parameter 2 only from micro-batch 1, 3 never. */
function grad(i: number, j: number): tf.Tensor1D | undefined {
  if (i === 3 || (i === 2 && j === 0)) return undefined;
  return tf.tensor1d(values(SIZES[i]!, 7 * i + j + 3).map((x) => x * 10 ** (j - 1)));
}

async function summed(
  sum: GradientSum | DeviceGradientSum,
  weights: readonly number[],
): Promise<Float32Array> {
  for (const [j, w] of weights.entries()) {
    const grads = SIZES.map((_, i) => grad(i, j));
    await sum.addAll(grads, w);
    tf.dispose(grads.filter((g): g is tf.Tensor1D => g !== undefined));
  }
  return await sum.result();
}

Deno.test("the device-side gradient sum gives GradientSum's bits, zeros where never reached", async () => {
  await selectBackend("cpu", quiet);
  for (const weights of [[1], [3 / 7, 3 / 7, 1 / 7], [0.1, 0.9]]) {
    const before = tf.memory().numTensors;
    const device = await summed(new DeviceGradientSum(SIZES), weights);
    assert.equal(tf.memory().numTensors, before, "no device tensor is left behind");
    const host = await summed(new GradientSum(SIZES), weights);
    assert.deepEqual(Array.from(device), Array.from(host), `weights ${weights}`);
    const never = SIZES.slice(0, 3).reduce((s, n) => s + n, 0);
    assert.ok(device.subarray(never).every((x) => x === 0), "parameter 3 stays zero");
    assert.ok(device.some((x) => x !== 0));
  }
});

Deno.test("the device-side gradient sum refuses a wrong size and use after it ended", async () => {
  await selectBackend("cpu", quiet);
  const sum = new DeviceGradientSum([4]);
  const wrong = tf.zeros([5]);
  assert.throws(
    () => sum.addAll([wrong], 1),
    /Cannot add a gradient to parameter 0: it has 5 values, expected 4/,
  );
  wrong.dispose();
  await sum.result();
  await assert.rejects(() => sum.result(), /it has ended/);
});
