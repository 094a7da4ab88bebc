/**
 * shared/model/batch_norm.ts: the hand-written gradient against autodiff, and the backbone's
 * running statistics as PyTorch keeps them.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { batchNormTrain } from "../shared/model/batch_norm.ts";
import { readBuffers, writeBuffers } from "../shared/engine/step.ts";
import { maxAbsDiff, model, quiet } from "./support/tiny_model.ts";
import { values } from "./support/values.ts";

Deno.test("BatchNorm: hand-written gradient equals autodiff; running stats as PyTorch", async () => {
  await selectBackend("cpu", quiet);
  const x = tf.tensor4d(values(3 * 4 * 5 * 2, 21).map((v, i) => v * (1 + (i % 2)) + (i % 2)), [
    3,
    4,
    5,
    2,
  ]);
  const gamma = tf.tensor1d([1.5, -0.5]), beta = tf.tensor1d([0.1, 0.2]);
  const r = tf.tensor4d(values(3 * 4 * 5 * 2, 22), [3, 4, 5, 2]);
  const naive = (a: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => {
    const { mean, variance } = tf.moments(a, [0, 1, 2]);
    return tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  };
  const ours = (a: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => {
    const o = batchNormTrain(a, g, b, 1e-5);
    tf.dispose([o.mean, o.variance]);
    return o.y;
  };
  const grads = (f: typeof naive) =>
    tf.grads((a, g, b) =>
      tf.sum(tf.mul(f(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D), r))
    )(
      [x, gamma, beta],
    ).map((t) => t.dataSync());
  assert.ok(maxAbsDiff(ours(x, gamma, beta).dataSync(), naive(x, gamma, beta).dataSync()) < 1e-5);
  grads(ours).forEach((g, i) => assert.ok(maxAbsDiff(g, grads(naive)[i]!) < 1e-4, `grad ${i}`));

  // Backbone: training mode updates running stats with momentum 0.1 and unbiased variance;
  // eval mode uses them and changes nothing.
  const m = model("standard");
  const net = m.backbones[0]!;
  const input = tf.tensor4d(values(2 * 32 * 32, 23), [2, 32, 32, 1]);
  const conv1 = tf.conv2d(input, net.tensors[0]!.variable as tf.Tensor4D, 2, [[0, 0], [3, 3], [
    3,
    3,
  ], [0, 0]]);
  const c = conv1.dataSync(), channels = 4, count = c.length / channels;
  const mean = new Float64Array(channels), sq = new Float64Array(channels);
  c.forEach((v, i) => (mean[i % channels]! += v / count));
  c.forEach((v, i) => (sq[i % channels]! += (v - mean[i % channels]!) ** 2));
  const bufferName = (s: string) => m.tensors.find((t) => t.name === s)!.variable;
  const evalBefore = net.forward(input, false).dataSync();
  const train1 = net.forward(input, true).dataSync();
  const rm = bufferName("bn1.running_mean").dataSync();
  const rv = bufferName("bn1.running_var").dataSync();
  for (let k = 0; k < channels; k++) {
    assert.ok(Math.abs(rm[k]! - 0.1 * mean[k]!) < 1e-5, `running_mean[${k}]`);
    assert.ok(Math.abs(rv[k]! - (0.9 + 0.1 * sq[k]! / (count - 1))) < 1e-5, `running_var[${k}]`);
  }
  assert.equal(net.batchesTracked.get("bn1"), 1);
  const train2 = net.forward(input, true).dataSync();
  assert.ok(maxAbsDiff(train1, train2) < 1e-6, "training mode uses batch statistics");
  const before = await readBuffers(m);
  const evalAfter = net.forward(input, false).dataSync();
  assert.deepEqual(await readBuffers(m), before, "eval mode leaves running stats alone");
  assert.ok(maxAbsDiff(evalBefore, evalAfter) > 1e-4, "eval mode uses running statistics");
  assert.ok(maxAbsDiff(train2, evalAfter) > 1e-4);
  writeBuffers(m, new Float32Array(before.length).fill(0.5));
  assert.ok((await readBuffers(m)).every((v) => v === 0.5));
  m.dispose();
});
