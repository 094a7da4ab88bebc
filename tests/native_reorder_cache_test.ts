/**
 * The native convolutions' kept reorders (shared/engine/native/reorder_cache.ts): a training
 * step's results with the cache are the same bits as without it (fp32, and bf16 where the CPU
 * has it), copies are found on the second use of a filter, a Variable given new values is not
 * served its old copy, and disposing a tensor drops its copies. Reference: the same kernels
 * with the cache off; exact equality, as the same primitive reads the same bytes either way.
 *
 * Needs libdnnl.so.2 (CI installs libdnnl2); skipped, with a note, elsewhere.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { netOps } from "../shared/model/net_ops.ts";
import { nativeContext } from "../shared/engine/native/context.ts";
import { setConvPrecision } from "../shared/engine/native/conv_precision.ts";
import { isaHasBf16, type Precision } from "../shared/engine/precision.ts";
import { values } from "./support/values.ts";

const native = probeNative();
const ignore = !native.ok && !Deno.env.get("CI");
if (ignore) {
  console.error(`native_reorder_cache_test: skipped (${!native.ok ? native.reason : ""})`);
}
const precisions: Precision[] = native.ok && isaHasBf16(native.info.isa)
  ? ["fp32", "bf16"]
  : ["fp32"];

type Shape = [number, number, number, number];
const X: Shape = [2, 9, 9, 16], W: Shape = [3, 3, 16, 32];

/** Two passes through conv -> conv with the same filters (as anchor and far share weights),
 * then the gradients of the summed outputs: every kernel's result, flattened. */
function step(x: tf.Tensor4D, x2: tf.Tensor4D, w1: tf.Tensor4D, w2: tf.Tensor4D): Float32Array[] {
  const ops = netOps();
  const net = (input: tf.Tensor4D, a: tf.Tensor4D, b: tf.Tensor4D) =>
    ops.conv(ops.conv(input, a, { stride: 2, pad: 1 }), b, { pad: 1 });
  const r = tf.tensor(values(5 * 5 * 32 * 2, 7), [2, 5, 5, 32]);
  const loss = (a: tf.Tensor4D, b: tf.Tensor4D) =>
    tf.add(tf.sum(tf.mul(net(x, a, b), r)), tf.sum(tf.square(net(x2, a, b))));
  const { value, grads } = tf.valueAndGrads((a: tf.Tensor, b: tf.Tensor) =>
    loss(a as tf.Tensor4D, b as tf.Tensor4D)
  )([w1, w2]);
  return [value, ...grads, net(x, w1, w2)].map((t) => t.dataSync() as Float32Array);
}

function inputs(seed: number) {
  const t = (shape: Shape, s: number) =>
    tf.tensor4d(values(shape.reduce((a, b) => a * b, 1), s), shape);
  return { x: t(X, seed), x2: t(X, seed + 1), w1: t(W, seed + 2), w2: t([3, 3, 32, 32], seed + 3) };
}

function run(enabled: boolean, seed: number): Float32Array[] {
  const kept = nativeContext().reordered;
  kept.enabled = enabled;
  try {
    return tf.tidy(() => {
      const { x, x2, w1, w2 } = inputs(seed);
      return step(x, x2, w1, w2);
    });
  } finally {
    kept.enabled = true;
  }
}

function assertSame(ours: Float32Array[], ref: Float32Array[], what: string): void {
  assert.equal(ours.length, ref.length);
  ours.forEach((o, i) => assert.deepEqual(o, ref[i], `${what}: result ${i} differs`));
}

Deno.test({
  name: "kept reorders give the same bits as reordering every call, and are found again",
  ignore,
  async fn() {
    await selectBackend("native", () => {});
    const kept = nativeContext().reordered;
    for (const precision of precisions) {
      setConvPrecision(nativeContext().dnnl, precision);
      try {
        const ref = run(false, 11);
        const hits = kept.hits, stores = kept.stores;
        const ours = run(true, 11);
        assertSame(ours, ref, precision);
        assert.ok(kept.stores > stores, `${precision}: copies were made`);
        // Each filter serves the second pass and backward-data from its first copy.
        assert.ok(kept.hits - hits >= 4, `${precision}: ${kept.hits - hits} copies found`);
        assert.equal(kept.tensors, 0, `${precision}: copies outlived their tensors`);
        assert.equal(kept.bytes, 0);
      } finally {
        setConvPrecision(nativeContext().dnnl, "fp32");
      }
    }
  },
});

Deno.test({
  name: "kept reorders: a Variable given new values is reordered again; dispose drops copies",
  ignore,
  async fn() {
    await selectBackend("native", () => {});
    const kept = nativeContext().reordered;
    const before = kept.tensors;
    const { x, x2, w1, w2 } = inputs(21);
    // Data of its own (tf.variable(w1) would share w1's, which then outlives the assign).
    const v1 = tf.tidy(() => tf.variable(tf.mul(w1, 1)));
    const conv = (w: tf.Tensor4D) =>
      tf.tidy(() => {
        const y = netOps().conv(x, w, { stride: 2, pad: 1 });
        const dw = tf.grads((a: tf.Tensor) =>
          tf.sum(tf.square(netOps().conv(x, a as tf.Tensor4D, { stride: 2, pad: 1 })))
        )([w])[0]!;
        return Float32Array.from([...dw.dataSync(), ...y.dataSync()]);
      });
    const first = conv(v1 as unknown as tf.Tensor4D);
    assert.ok(kept.tensors > before, "the variable's filter copy is kept while it lives");
    assert.ok(kept.bytes > 0);
    // New values, as Adam's step assigns them: the old copy must not serve the new data.
    const negated = tf.mul(w1, -2);
    v1.assign(negated);
    negated.dispose();
    assert.equal(kept.tensors, before, "the old data's copy was dropped with it");
    const second = conv(v1 as unknown as tf.Tensor4D);
    kept.enabled = false;
    const reference = conv(v1 as unknown as tf.Tensor4D);
    kept.enabled = true;
    assert.deepEqual(second, reference, "after assign: same as reordering anew");
    assert.notDeepEqual(second, first);
    for (const t of [x, x2, w1, w2, v1]) t.dispose();
    assert.equal(kept.tensors, before, "disposing the tensors dropped every copy");
    assert.equal(kept.bytes, 0);
  },
});
