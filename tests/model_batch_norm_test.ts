/**
 * shared/model/batch_norm.ts: the hand-written gradient against autodiff, and the backbone's
 * running statistics as PyTorch keeps them, on every backend at hand (the native one updates
 * them inside its kernel), against a naive float64 loop.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import {
  batchNormTrain,
  type RunningStats,
  updateRunningStats,
  updateRunningStatsF32,
} from "../shared/model/batch_norm.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { readBuffers, writeBuffers } from "../shared/engine/step.ts";
import { maxAbsDiff, model, quiet } from "./support/tiny_model.ts";
import { netOps } from "../shared/model/net_ops.ts";
import { values } from "./support/values.ts";

Deno.test("BatchNorm: the hand-written gradient equals autodiff", async () => {
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
  const running: RunningStats = {
    mean: tf.variable(tf.zeros([2]), false),
    variance: tf.variable(tf.ones([2]), false),
    momentum: 0.1,
  };
  const ours = (a: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) =>
    batchNormTrain(a, g, b, 1e-5, running);
  const grads = (f: typeof naive) =>
    tf.grads((a, g, b) =>
      tf.sum(tf.mul(f(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D), r))
    )(
      [x, gamma, beta],
    ).map((t) => t.dataSync());
  assert.ok(maxAbsDiff(ours(x, gamma, beta).dataSync(), naive(x, gamma, beta).dataSync()) < 1e-5);
  grads(ours).forEach((g, i) => assert.ok(maxAbsDiff(g, grads(naive)[i]!) < 1e-4, `grad ${i}`));

  running.mean.dispose();
  running.variance.dispose();
});

/** Per-channel mean and unbiased variance of NHWC values, in float64. */
function naiveStats(x: ArrayLike<number>, channels: number) {
  const count = x.length / channels;
  const mean = new Float64Array(channels), sq = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) mean[i % channels]! += x[i]! / count;
  for (let i = 0; i < x.length; i++) sq[i % channels]! += (x[i]! - mean[i % channels]!) ** 2;
  return { mean, variance: sq.map((s) => s / (count - 1)) };
}

/** PyTorch's running update, in float64: (1 - m) * old + m * batch. */
function naiveUpdate(old: ArrayLike<number>, batch: ArrayLike<number>, m: number): number[] {
  return Array.from(old, (o, k) => (1 - m) * o + m * batch[k]!);
}

// |float32 - float64| <= 1e-6 * max(1, |v|): float32 statistics over a few hundred values and
// five roundings in the update (measured <= 1.3e-7 on cpu, wasm and native; counting one value
// more in the unbiased factor, count / (count - 1), is off by 1.4e-5).
const STATS_TOL = 1e-6;

function assertClose(ours: ArrayLike<number>, ref: ArrayLike<number>, what: string): void {
  for (let k = 0; k < ref.length; k++) {
    const err = Math.abs(ours[k]! - ref[k]!) / Math.max(1, Math.abs(ref[k]!));
    assert.ok(err <= STATS_TOL, `${what}[${k}]: ${ours[k]} vs ${ref[k]} (off by ${err})`);
  }
}

Deno.test("running statistics: the float32 loop gives the tfjs ops' bits; both match float64", async () => {
  await selectBackend("wasm", quiet);
  const c = 37, count = 49, m = 0.1;
  const batch = { mean: values(c, 31), variance: values(c, 32).map((v) => v * v * 3) };
  const old = { mean: values(c, 33), variance: values(c, 34).map((v) => 0.5 + v * v) };
  const running: RunningStats = {
    mean: tf.variable(tf.tensor1d(old.mean), false),
    variance: tf.variable(tf.tensor1d(old.variance), false),
    momentum: m,
  };
  updateRunningStats(running, tf.tensor1d(batch.mean), tf.tensor1d(batch.variance), count);
  const ops = { mean: running.mean.dataSync(), variance: running.variance.dataSync() };
  const loop = { mean: new Float32Array(c), variance: new Float32Array(c) };
  updateRunningStatsF32(batch, old, loop, count, m);
  assert.deepEqual(loop.mean, ops.mean);
  assert.deepEqual(loop.variance, ops.variance);
  assertClose(loop.mean, naiveUpdate(old.mean, batch.mean, m), "mean");
  const unbiased = Array.from(batch.variance, (v) => v * count / (count - 1));
  assertClose(loop.variance, naiveUpdate(old.variance, unbiased, m), "variance");
  assert.throws(() => updateRunningStatsF32(batch, old, loop, 1, m), /at least 2/);
  tf.dispose([running.mean, running.variance]);
});

const backends = ["cpu", "wasm", ...(probeNative().ok ? ["native" as const] : [])] as const;

for (const backend of backends) {
  Deno.test(`running statistics on ${backend}: three batch norms in a row match float64`, async () => {
    await selectBackend(backend, quiet);
    const c = 16, m = 0.1;
    const shape: [number, number, number, number] = [3, 5, 7, c];
    const running: RunningStats = {
      mean: tf.variable(tf.fill([c], 0.25), false),
      variance: tf.variable(tf.fill([c], 2), false),
      momentum: m,
    };
    let mean: number[] = new Array(c).fill(0.25), variance: number[] = new Array(c).fill(2);
    const gamma = tf.ones([c]) as tf.Tensor1D, beta = tf.zeros([c]) as tf.Tensor1D;
    for (const [i, relu] of [false, true, false].entries()) {
      const x = values(shape.reduce((a, b) => a * b, 1), 40 + i).map((v, j) => v * (1 + j % 3));
      const ref = naiveStats(x, c);
      mean = naiveUpdate(mean, ref.mean, m);
      variance = naiveUpdate(variance, ref.variance, m);
      tf.tidy(() => {
        const y = netOps().batchNorm(tf.tensor4d(x, shape), gamma, beta, 1e-5, relu, running);
        const r = tf.tensor4d(values(y.size, 50 + i), shape);
        // Taking a gradient runs the forward once more: the statistics move once per call.
        tf.grad((xi: tf.Tensor) =>
          tf.sum(tf.mul(netOps().batchNorm(xi as tf.Tensor4D, gamma, beta, 1e-5, relu, running), r))
        )(tf.tensor4d(x, shape));
      });
      mean = naiveUpdate(mean, ref.mean, m);
      variance = naiveUpdate(variance, ref.variance, m);
      assertClose(running.mean.dataSync(), mean, `${backend} step ${i} running mean`);
      assertClose(running.variance.dataSync(), variance, `${backend} step ${i} running var`);
    }
    tf.dispose([running.mean, running.variance, gamma, beta]);
  });
}

for (const backend of backends) {
  Deno.test(`backbone on ${backend}: training updates running stats as PyTorch; eval uses them`, async () => {
    await selectBackend(backend, quiet);
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
      assert.ok(Math.abs(rm[k]! - 0.1 * mean[k]!) < STATS_TOL, `running_mean[${k}]`);
      assert.ok(
        Math.abs(rv[k]! - (0.9 + 0.1 * sq[k]! / (count - 1))) < STATS_TOL,
        `running_var[${k}]`,
      );
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
}
