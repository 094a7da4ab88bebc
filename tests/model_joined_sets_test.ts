/**
 * One backbone pass over the three image sets of a micro-batch, each BatchNorm with statistics
 * per set, against the reference's three passes (one per set), on wasm and native (cpu too for
 * the batch norm alone): the batch norm's output, input and scale/shift gradients and running
 * statistics; then one whole training step's loss, gradients, running statistics and
 * num_batches_tracked.
 *
 * Tolerances (max |joined - three| / max(1, max |three|)): the same arithmetic with float32
 * sums in another order (the convolutions' weight gradients sum over 3n images at once instead
 * of three sums of n; the scale and shift gradients add the sets in another order). Batch norm
 * alone: 1e-6 (measured: output, dx and running statistics bit for bit on all three backends;
 * dgamma and dbeta <= 7.4e-8, against the three passes' sum rounded once). Whole step: loss 1e-6
 * (measured 0), gradients 2e-5 (measured 1.2e-6 wasm, 8.3e-7 native), running statistics 1e-6
 * (measured 0). Statistics over all three sets together (`batched`) move the gradients by
 * 0.9 here: checked to exceed 1e-2, so that the comparison can fail.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { readBuffers } from "../shared/engine/step.ts";
import type { RunningStats } from "../shared/model/batch_norm.ts";
import { CsnModel, type ModelConfig, type TripletImages } from "../shared/model/csn.ts";
import { REFERENCE_LOSS, tripletLoss } from "../shared/model/loss.ts";
import { netOps } from "../shared/model/net_ops.ts";
import { readFlat } from "../shared/engine/heap_read.ts";
import { maxRelErr } from "./support/compare.ts";
import { quiet } from "./support/tiny_model.ts";
import { values } from "./support/values.ts";

const native = probeNative().ok;
const BN_TOL = 1e-6;
const GRAD_TOL = 2e-5;
const STATS_TOL = 1e-6;

/** Three image sets of different means and spreads, so per-set statistics differ. */
function setValues(size: number, seed: number): Float32Array[] {
  return [0, 1, 2].map((s) => values(size, seed + s).map((v) => v * (1 + s) + 0.5 * s));
}

function runningStats(c: number): RunningStats {
  return {
    mean: tf.variable(tf.fill([c], 0.25), false),
    variance: tf.variable(tf.fill([c], 2), false),
    momentum: 0.1,
  };
}

const concat = (parts: Float32Array[]) => {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};

for (const backend of ["cpu", "wasm", ...(native ? ["native" as const] : [])] as const) {
  for (const relu of [false, true]) {
    Deno.test(`batch norm over 3 image sets on ${backend} (relu ${relu}) = one call per set`, async () => {
      await selectBackend(backend, quiet);
      const c = 5, shape: [number, number, number, number] = [2, 3, 4, c];
      const size = shape.reduce((a, b) => a * b, 1);
      const xs = setValues(size, 60);
      const r = values(3 * size, 70);
      const gamma = tf.tensor1d(values(c, 71).map((v) => 1 + v));
      const beta = tf.tensor1d(values(c, 72));
      /** y and the gradients of sum(y * upstream) in x, gamma and beta. */
      const run = (x: Float32Array, upstream: Float32Array, running: RunningStats, sets: number) =>
        tf.tidy(() => {
          const f = (xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, stats = running) =>
            netOps().batchNorm(
              xi as tf.Tensor4D,
              g as tf.Tensor1D,
              b as tf.Tensor1D,
              1e-5,
              relu,
              stats,
              sets,
            );
          const n = x.length / (size / shape[0]);
          const xt = tf.tensor4d(x, [n, shape[1], shape[2], c]);
          const up = tf.tensor4d(upstream, xt.shape);
          // The output on its own statistics, so that `running` moves once per set, in order.
          const scratch = runningStats(c);
          const y = f(xt, gamma, beta, scratch).dataSync() as Float32Array;
          tf.dispose([scratch.mean, scratch.variance]);
          const grads = tf.grads((xi, g, b) => tf.sum(tf.mul(f(xi, g, b), up)))([xt, gamma, beta]);
          return { y, grads: grads.map((t) => t.dataSync() as Float32Array) };
        });
      const three = runningStats(c), joint = runningStats(c), once = runningStats(c);
      const passes = xs.map((x, s) => run(x, r.subarray(s * size, (s + 1) * size), three, 1));
      const joined = run(concat(xs), r, joint, 3);
      assert.ok(maxRelErr(joined.y, concat(passes.map((p) => p.y))) <= BN_TOL, "y");
      assert.ok(
        maxRelErr(joined.grads[0]!, concat(passes.map((p) => p.grads[0]!))) <= BN_TOL,
        "dx",
      );
      for (const [i, what] of [[1, "dgamma"], [2, "dbeta"]] as const) {
        const [p0, p1, p2] = passes.map((p) => p.grads[i]!);
        const sum = p0!.map((v, k) => v + p1![k]! + p2![k]!);
        assert.ok(maxRelErr(joined.grads[i]!, sum) <= BN_TOL, what);
      }
      // Sets 0, 1, 2 in order, in one call or in three.
      for (const key of ["mean", "variance"] as const) {
        const err = maxRelErr(
          joint[key].dataSync() as Float32Array,
          three[key].dataSync() as Float32Array,
        );
        assert.ok(err <= STATS_TOL, `running ${key} off by ${err}`);
      }
      // One set of statistics over all three is another model.
      const batched = run(concat(xs), r, once, 1);
      assert.ok(maxRelErr(batched.y, joined.y) > 1e-2, "sets=1 normalises over all three");
      assert.throws(
        () => netOps().batchNorm(tf.zeros([5, 3, 4, c]), gamma, beta, 1e-5, relu, once, 3),
        /divides the batch/,
      );
      tf.dispose([gamma, beta, ...[three, joint, once].flatMap((s) => [s.mean, s.variance])]);
    });
  }
}

const CONFIG: ModelConfig = {
  mode: "csn",
  masks: "learned",
  nConditions: 2,
  backbone: { inChannels: 3, inputSize: 32, width: 8, embedDim: 16 },
  seed: 4,
};

function batch(n: number): TripletImages {
  const size = n * CONFIG.backbone.inputSize ** 2 * CONFIG.backbone.inChannels;
  const [anchor, far, close] = setValues(size, 80);
  return {
    anchor: anchor!,
    far: far!,
    close: close!,
    conditions: Int32Array.from({ length: n }, (_, i) => i % 2),
  };
}

/** One micro-batch's loss, gradients (trainable order), running statistics and counters. */
async function step(backend: "wasm" | "native", how: "three" | "joined" | "batched") {
  await selectBackend(backend, quiet);
  const model = new CsnModel(CONFIG);
  const n = 4, b = batch(n);
  const net = model.backbones[0]!;
  try {
    const vars = model.trainable.map((t) => t.variable);
    const { value, grads } = tf.variableGrads(() => {
      const emb = how === "three"
        ? {
          ...Object.fromEntries((["anchor", "far", "close"] as const).map((k) => {
            const { inputSize: s, inChannels: c } = CONFIG.backbone;
            return [k, net.forward(tf.tensor4d(b[k], [n, s, s, c]), true)];
          })) as { anchor: tf.Tensor2D; far: tf.Tensor2D; close: tf.Tensor2D },
          masks: model.masks!.rows(b.conditions),
          conditions: b.conditions,
        }
        : model.forward(b, { training: true, batched: how === "batched" });
      return tripletLoss(emb, REFERENCE_LOSS).total;
    }, vars);
    const flat = await readFlat(vars.map((v) => grads[v.name]!));
    const loss = (await value.data())[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    return {
      loss,
      grads: flat,
      buffers: await readBuffers(model),
      tracked: [...net.batchesTracked.values()],
    };
  } finally {
    model.dispose();
  }
}

for (const backend of ["wasm", ...(native ? ["native" as const] : [])] as const) {
  Deno.test(`one joined training step on ${backend} = the three-pass step`, async () => {
    const ref = await step(backend, "three");
    const ours = await step(backend, "joined");
    const loss = Math.abs(ours.loss - ref.loss) / Math.max(1, ref.loss);
    assert.ok(loss <= 1e-6, `loss ${ours.loss} vs ${ref.loss}`);
    const g = maxRelErr(ours.grads, ref.grads);
    assert.ok(g <= GRAD_TOL, `gradients off by ${g}`);
    const s = maxRelErr(ours.buffers, ref.buffers);
    assert.ok(s <= STATS_TOL, `running statistics off by ${s}`);
    assert.deepEqual(ours.tracked, ref.tracked);
    assert.ok(ref.tracked.every((t) => t === 3), "num_batches_tracked counts each set");
    const batched = await step(backend, "batched");
    assert.ok(maxRelErr(batched.grads, ref.grads) > 1e-2, "batched is another model");
    assert.ok(batched.tracked.every((t) => t === 1));
  });
}
