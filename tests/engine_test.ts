/**
 * shared/engine/engine.ts against the same data parallelism done by hand in this thread: two
 * Deno workers must produce the very bytes (checkpoint after one step, embeddings) that two
 * in-process replicas give with splitBatch + weightedMean, on wasm and (where oneDNN loads)
 * native; the caller's batch survives the transfer of the slices to the workers. Evaluation
 * engines carry no training setup and refuse to train.
 */
import assert from "node:assert/strict";
import { selectBackend } from "../shared/engine/backend.ts";
import type { TripletImages } from "../shared/model/csn.ts";
import { REFERENCE_LOSS } from "../shared/model/loss.ts";
import { splitBatch, weightedMean } from "../shared/engine/reduction.ts";
import { mergeStats } from "../shared/engine/stats.ts";
import { Engine } from "../shared/engine/engine.ts";
import { Replica, type ReplicaSetup } from "../shared/engine/replica.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { values } from "./support/values.ts";

const quiet = () => {};
const SETUP: ReplicaSetup = {
  config: {
    mode: "csn",
    masks: "learned",
    nConditions: 2,
    backbone: { inChannels: 1, inputSize: 32, width: 4, embedDim: 8 },
    seed: 0,
  },
  backend: "wasm",
  threads: 1,
  training: { microBatch: 2, batched: false, loss: REFERENCE_LOSS },
};
const SIZE = 32 * 32;
const META = { epoch: 1, step: 1, rng: "{}", params: {} };

function batchOf(n: number): TripletImages {
  return {
    anchor: values(n * SIZE, 1),
    far: values(n * SIZE, 2),
    close: values(n * SIZE, 3),
    conditions: Int32Array.from({ length: n }, (_, i) => i % 2),
  };
}

async function sameBytesAsInThread(setup: ReplicaSetup): Promise<void> {
  const batch = batchOf(5); // split 3 + 2
  const { training, ...model } = setup;
  const pool = await Engine.open({ workers: 2, model, training, log: quiet });
  let pooled: Uint8Array, stats, embedded: Float32Array[];
  try {
    stats = await pool.step(batch, SIZE, 1e-2);
    pooled = await pool.checkpoint(META);
    embedded = await pool.embed(batch.anchor, 5, SIZE);
  } finally {
    pool.close();
  }
  assert.equal(batch.anchor.length, 5 * SIZE, "the caller's arrays are not detached");
  assert.deepEqual(batch.far, values(5 * SIZE, 2));
  assert.equal(batch.conditions.length, 5);

  await selectBackend(setup.backend, quiet);
  const replicas = [await Replica.create(setup, quiet), await Replica.create(setup, quiet)];
  try {
    const slices = splitBatch(batch, 2, SIZE);
    assert.deepEqual(slices.map((s) => s.conditions.length), [3, 2]);
    const grads = [
      await replicas[0]!.gradients(slices[0]!),
      await replicas[1]!.gradients(slices[1]!),
    ];
    const values = weightedMean(grads.map((g) => g.values), [3, 2]);
    const buffers = weightedMean(grads.map((g) => g.buffers), [3, 2]);
    for (const r of replicas) await r.apply(values, buffers, 1e-2);
    assert.deepEqual(stats, mergeStats(grads.map((g) => g.stats)));
    assert.equal(stats.triplets, 5);
    assert.deepEqual(pooled, await replicas[0]!.checkpoint(META), "same weights, Adam state");
    // embed: 3 + 2 images on the two workers, concatenated in order
    const [whole] = await replicas[0]!.embed(batch.anchor, 5);
    assert.equal(embedded.length, 1);
    assert.deepEqual(embedded[0], whole);
  } finally {
    replicas.forEach((r) => r.close());
  }
}

Deno.test("Engine: two wasm workers give the bytes of the same step done in this thread", async () => {
  await sameBytesAsInThread(SETUP);
});

const native = probeNative();
Deno.test({
  name: "Engine: two native workers give the bytes of the same step done in this thread",
  ignore: !native.ok && !Deno.env.get("CI"),
  async fn() {
    await sameBytesAsInThread({ ...SETUP, backend: "native" });
  },
});

Deno.test("Engine: an evaluation engine embeds but refuses to train", async () => {
  const { training: _, ...model } = SETUP;
  const engine = await Engine.open({ workers: 0, model, log: quiet });
  try {
    const [embedded] = await engine.embed(values(3 * SIZE, 4), 3, SIZE);
    assert.equal(embedded!.length, 3 * 8);
    await assert.rejects(() => engine.step(batchOf(2), SIZE, 1e-2), /only evaluates/);
  } finally {
    engine.close();
  }
});

Deno.test("Engine: a backend that auto chose is logged and recorded as auto, not as requested", async () => {
  const { training: _, ...model } = SETUP;
  const lines: string[] = [];
  const engine = await Engine.open({
    workers: 1,
    model: { ...model, backend: "auto" },
    log: (m) => lines.push(m),
  });
  try {
    assert.doesNotMatch(engine.backend.reason, /requested/, engine.backend.reason);
    const chosen = lines.find((l) => /^worker 0: backend: \w+ \(/.test(l));
    assert.match(chosen ?? "", /^worker 0: backend: \w+ \(auto: /, lines.join("\n"));
    assert.ok(!lines.some((l) => l.includes("requested")), lines.join("\n"));
  } finally {
    engine.close();
  }
});
