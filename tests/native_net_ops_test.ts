/**
 * The native backend's blocks (oneDNN through FFI) against the portable tfjs compositions run
 * on the wasm backend, on odd shapes, strides 1 and 2 and several paddings: outputs and the
 * gradients of sum(out * r) for random r. Tolerance: max |native - wasm| <= 1e-4 *
 * max(1, max |wasm|) per tensor (float32 sums in another order; measured ~1e-6).
 *
 * Needs libdnnl.so.2 (CI installs libdnnl2); skipped, with a note, elsewhere.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { type NetOps, netOps, PORTABLE_OPS } from "../shared/model/net_ops.ts";
import { values } from "./support/values.ts";
import { maxRelErr } from "./support/compare.ts";
import { foldedCount } from "../shared/engine/native/folded_conv.ts";

const TOL = 1e-4;
const native = probeNative();
const ignore = !native.ok && !Deno.env.get("CI");
if (ignore) console.error(`native_net_ops_test: skipped (${!native.ok ? native.reason : ""})`);

type Block = (ops: NetOps, inputs: tf.Tensor[]) => tf.Tensor;

/** The block's output and the gradients of sum(out * r) w.r.t. each input, on `backend`. */
async function evaluate(
  backend: "wasm" | "native",
  block: Block,
  shapes: number[][],
  seed: number,
  differentiable = true,
): Promise<Float32Array[]> {
  await selectBackend(backend, () => {});
  const ops = netOps();
  assert.equal(ops === PORTABLE_OPS, backend === "wasm", `${backend} uses its own blocks`);
  return tf.tidy(() => {
    const inputs = shapes.map((s, i) =>
      tf.tensor(values(s.reduce((a, b) => a * b, 1), seed + i), s)
    );
    const out = block(ops, inputs);
    const r = tf.tensor(values(out.size, seed + 99), out.shape);
    if (!differentiable) return [out.dataSync() as Float32Array];
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(block(ops, xs), r)))(inputs);
    return [out, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

async function compare(
  what: string,
  block: Block,
  shapes: number[][],
  seed: number,
  differentiable = true,
): Promise<void> {
  const ref = await evaluate("wasm", block, shapes, seed, differentiable);
  const ours = await evaluate("native", block, shapes, seed, differentiable);
  ref.forEach((r, i) => {
    const err = maxRelErr(ours[i]!, r);
    assert.ok(err <= TOL, `${what}: ${i === 0 ? "output" : `gradient ${i}`} off by ${err}`);
  });
}

Deno.test({
  name: "native conv matches wasm: output, dx, dw over strides and paddings",
  ignore,
  async fn() {
    let seed = 1;
    for (const stride of [1, 2]) {
      for (const [k, pad] of [[1, 0], [3, 1], [3, 0], [7, 3]] as const) {
        for (const [h, w] of [[9, 9], [10, 7]] as const) {
          const block: Block = (ops, [x, f]) =>
            ops.conv(x as tf.Tensor4D, f as tf.Tensor4D, { stride, pad });
          await compare(`k${k} s${stride} p${pad} ${h}x${w}`, block, [[2, h, w, 3], [
            k,
            k,
            3,
            5,
          ]], seed++);
        }
      }
    }
  },
});

Deno.test({
  name: "native conv without input gradient: the same output and dw, no kernel for dx",
  ignore,
  async fn() {
    // The images need no gradient: the portable op gives them zeros, the native one leaves
    // them off the tape (a gradient with respect to them is then refused).
    const stem = (w: tf.Tensor, x: tf.Tensor) =>
      netOps().conv(x as tf.Tensor4D, w as tf.Tensor4D, { stride: 2, pad: 3, inputGrad: false });
    const run = async (backend: "wasm" | "native") => {
      await selectBackend(backend, () => {});
      return tf.tidy(() => {
        const x = tf.tensor(values(2 * 16 * 16, 40), [2, 16, 16, 1]);
        const w = tf.tensor(values(7 * 7 * 4, 41), [7, 7, 1, 4]);
        const y = stem(w, x);
        const r = tf.tensor(values(y.size, 42), y.shape);
        const dw = tf.grad((wi: tf.Tensor) => tf.sum(tf.mul(stem(wi, x), r)))(w);
        return [y, dw].map((t) => t.dataSync() as Float32Array);
      });
    };
    const ref = await run("wasm");
    const ours = await run("native");
    ref.forEach((r, i) => assert.ok(maxRelErr(ours[i]!, r) <= TOL, `stem ${i ? "dw" : "y"}`));
    assert.throws(() =>
      tf.tidy(() => {
        const x = tf.ones([1, 8, 8, 1]), w = tf.ones([7, 7, 1, 2]);
        tf.grad((xi: tf.Tensor) => tf.sum(stem(w, xi)))(x);
      })
    );
  },
});

/** A batch norm block whose running statistics start at (0.5, 2) per channel; with `stats`
 * it returns them, concatenated, after its update instead of y. */
function batchNormBlock(relu: boolean, stats: boolean): Block {
  return (ops, [x, g, b]) => {
    const c = g!.shape[0]!;
    const running = {
      mean: tf.variable(tf.fill([c], 0.5), false),
      variance: tf.variable(tf.fill([c], 2), false),
      momentum: 0.1,
    };
    const y = ops.batchNorm(
      x as tf.Tensor4D,
      g as tf.Tensor1D,
      b as tf.Tensor1D,
      1e-5,
      relu,
      running,
    );
    const out = stats ? tf.concat([running.mean, running.variance]) : y;
    if (stats) y.dispose();
    running.mean.dispose();
    running.variance.dispose();
    return out;
  };
}

Deno.test({
  name: "native batch norm (training, with and without ReLU) matches wasm incl. running stats",
  ignore,
  async fn() {
    for (const relu of [false, true]) {
      for (const shape of [[2, 5, 3, 6], [3, 4, 4, 16], [1, 7, 7, 64]]) {
        const c = shape[3]!;
        const inputs = [shape, [c], [c]];
        await compare(`bn relu=${relu} [${shape}]`, batchNormBlock(relu, false), inputs, 50);
        const stats = batchNormBlock(relu, true);
        await compare(`bn running stats [${shape}]`, stats, inputs, 60, false);
      }
    }
  },
});

Deno.test({
  name: "native max-pool, global average pool and residual add+ReLU match wasm",
  ignore,
  async fn() {
    for (const shape of [[2, 9, 9, 4], [1, 10, 7, 16], [3, 56, 56, 8]]) {
      const pool: Block = (ops, [x]) => ops.maxPool(x as tf.Tensor4D, 3, 2, 1, true);
      await compare(`max-pool [${shape}]`, pool, [shape], 70);
      const evalPool: Block = (ops, [x]) => ops.maxPool(x as tf.Tensor4D, 3, 2, 1, false);
      await compare(`max-pool eval [${shape}]`, evalPool, [shape], 71, false);
      const avg: Block = (ops, [x]) => ops.globalAvgPool(x as tf.Tensor4D, true);
      await compare(`avg-pool [${shape}]`, avg, [shape], 72);
      const join: Block = (ops, [a, b]) => ops.addRelu(a as tf.Tensor4D, b as tf.Tensor4D);
      await compare(`add+relu [${shape}]`, join, [shape, shape], 73);
    }
  },
});

Deno.test({
  name: "native conv+BN evaluation (folded, residual and ReLU post-ops) matches wasm",
  ignore,
  async fn() {
    const c = 6;
    for (const residual of [false, true]) {
      for (const relu of [false, true]) {
        for (const [stride, pad, k] of [[1, 1, 3], [2, 0, 1], [2, 3, 7]] as const) {
          const block: Block = (ops, [x, w, g, b, m, v, r]) =>
            ops.convBnEval(
              x as tf.Tensor4D,
              w as tf.Tensor4D,
              {
                gamma: g as tf.Tensor1D,
                beta: b as tf.Tensor1D,
                runningMean: m as tf.Tensor1D,
                runningVar: tf.add(tf.abs(v!), 0.5) as tf.Tensor1D,
              },
              1e-5,
              { stride, pad },
              relu,
              residual ? r as tf.Tensor4D : undefined,
            );
          const side = Math.floor((11 + 2 * pad - k) / stride) + 1;
          await compare(
            `conv+bn eval k${k} s${stride} relu=${relu} residual=${residual}`,
            block,
            [[2, 11, 11, 3], [k, k, 3, c], [c], [c], [c], [c], [2, side, side, c]],
            80,
            false,
          );
        }
      }
    }
  },
});

Deno.test({
  name: "a native gradient reads its weights as of the forward pass, or refuses",
  ignore,
  async fn() {
    await selectBackend("native", () => {});
    const x = tf.tensor(values(2 * 5 * 5 * 2, 90), [2, 5, 5, 2]) as tf.Tensor4D;
    const w = tf.variable(tf.tensor(values(3 * 3 * 2 * 4, 91), [3, 3, 2, 4]));
    const loss = (reassign: boolean) => () => {
      const y = netOps().conv(x, w as tf.Tensor4D, { pad: 1 });
      if (reassign) w.assign(tf.zerosLike(w));
      return tf.sum(y) as tf.Scalar;
    };
    const { grads } = tf.variableGrads(loss(false), [w]);
    // d sum(conv(x, w)) / dw is independent of w: the sum of x's values under each tap.
    const dw = grads[w.name]!.dataSync();
    assert.ok(dw.some((v) => Math.abs(v) > 1e-3), "a nonzero filter gradient");
    assert.throws(
      () => tf.variableGrads(loss(true), [w]),
      /assigned a new value after the forward/,
    );
    tf.dispose([x, w, ...Object.values(grads)]);
  },
});

Deno.test({
  name: "folded eval weights are rebuilt when a weight or statistic changes, freed with it",
  ignore,
  async fn() {
    await selectBackend("native", () => {});
    const x = tf.tensor4d(values(2 * 8 * 8 * 3, 5), [2, 8, 8, 3]);
    // A variable shares its initial tensor's data: dispose that, so that disposing the
    // variable frees the data (what the cache listens for), as the model's own tensors do.
    const initial = tf.tensor4d(values(3 * 3 * 3 * 4, 6), [3, 3, 3, 4]);
    const w = tf.variable(initial);
    initial.dispose();
    const bn = {
      gamma: tf.variable(tf.tensor1d(values(4, 7))),
      beta: tf.variable(tf.tensor1d(values(4, 8))),
      runningMean: tf.variable(tf.tensor1d(values(4, 9))),
      runningVar: tf.variable(tf.ones([4]) as tf.Tensor1D),
    };
    const run = () => {
      const y = netOps().convBnEval(x, w, bn, 1e-5, { stride: 1, pad: 1 }, true);
      const out = Float32Array.from(y.dataSync() as Float32Array);
      y.dispose();
      return out;
    };
    const reference = () => {
      const y = PORTABLE_OPS.convBnEval(x, w, bn, 1e-5, { stride: 1, pad: 1 }, true);
      const out = Float32Array.from(y.dataSync() as Float32Array);
      y.dispose();
      return out;
    };
    const before = foldedCount();
    const first = run();
    assert.ok(maxRelErr(first, reference()) <= TOL, "first call");
    assert.equal(foldedCount(), before + 1, "one folded pair kept for the filter");
    assert.deepEqual(run(), first, "a second call reuses it");
    bn.runningVar.assign(tf.fill([4], 4));
    const changed = run();
    assert.ok(maxRelErr(changed, reference()) <= TOL, "rebuilt after the statistic changed");
    assert.notDeepEqual(changed, first);
    const doubled = tf.mul(w, 2) as tf.Tensor4D;
    w.assign(doubled);
    doubled.dispose();
    assert.ok(maxRelErr(run(), reference()) <= TOL, "rebuilt after the weight changed");
    assert.equal(foldedCount(), before + 1, "the stale pair was released");
    tf.dispose([x, w, ...Object.values(bn)]);
    assert.equal(foldedCount(), before, "disposing the filter frees its folded pair");
  },
});

Deno.test({
  name: "oneDNN reports its version and the instruction set it dispatches",
  ignore,
  fn() {
    assert.ok(native.ok);
    assert.match(native.info.version, /^2\.\d+\.\d+$/);
    assert.match(native.info.isa, /^(sse41|avx|avx2|avx2_vnni|avx512\w*)$/);
  },
});
