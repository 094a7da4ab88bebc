/**
 * shared/engine/step.ts: micro-batch gradients sum to the batch gradient, and whole-network
 * gradients agree across the cpu and wasm backends.
 */
import assert from "node:assert/strict";
import { selectBackend } from "../shared/engine/backend.ts";
import { countParameters } from "../shared/model/resnet.ts";
import { computeGradients, sliceBatch } from "../shared/engine/step.ts";
import { maxAbsDiff, model, quiet, tinyBatch } from "./support/tiny_model.ts";

Deno.test("micro-batches: gradients are the size-weighted sum of per-micro-batch gradients", async () => {
  await selectBackend("wasm", quiet);
  const net = model("csn", "learned");
  const batch = tinyBatch(net, 5, 51);
  const whole = await computeGradients(net, batch, { microBatch: 2 }); // sizes 2, 2, 1
  const parts = [];
  for (const [s, e] of [[0, 2], [2, 4], [4, 5]]) {
    parts.push(
      await computeGradients(net, sliceBatch(batch, s!, e!, net.imageSize), { microBatch: 8 }),
    );
  }
  const expected = new Float32Array(whole.values.length);
  parts.forEach((p, i) => p.values.forEach((v, j) => (expected[j]! += v * (i < 2 ? 0.4 : 0.2))));
  assert.equal(whole.values.length, countParameters(net.trainable));
  assert.ok(maxAbsDiff(whole.values, expected) < 1e-5);
  assert.equal(whole.stats.triplets, 5);
  assert.equal(whole.stats.accuracy.count, 5);
  const meanLoss = parts.reduce((s, p, i) => s + p.stats.loss * (i < 2 ? 0.4 : 0.2), 0);
  assert.ok(Math.abs(whole.stats.loss - meanLoss) < 1e-6);
  net.dispose();
});

Deno.test("whole-network gradients agree on the cpu and wasm backends (1e-4 relative)", async () => {
  const grads: Float32Array[] = [];
  for (const backend of ["cpu", "wasm"] as const) {
    await selectBackend(backend, quiet);
    const net = model("csn", "prein", 9);
    grads.push((await computeGradients(net, tinyBatch(net, 3, 91), { microBatch: 3 })).values);
    net.dispose();
  }
  const scale = Math.max(...grads[0]!.map(Math.abs));
  assert.ok(scale > 0);
  assert.ok(maxAbsDiff(grads[0]!, grads[1]!) / scale < 1e-4);
});
