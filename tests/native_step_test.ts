/**
 * One whole training step on the native backend against the same step on wasm, from the same
 * seeded weights and batch: the flat gradients, the BatchNorm running statistics and the
 * weights after one Adam update, for csn (learned masks) and task-specific models.
 * Tolerance: max |native - wasm| <= 1e-3 * max(1, max |wasm|) for gradients (float32 sums
 * through ~20 layers in another order), 1e-5 for the statistics; for the weights after one Adam
 * update, whose first step is lr * g / (|g| + eps) ~ lr * sign(g): 1e-6 where the gradient is
 * clearly nonzero (|g| >= 1e-3 * max |g|, both backends then move the weight by ~lr alike), and
 * 2 * lr elsewhere (near-zero gradients may differ in sign between the two sums).
 */
import assert from "node:assert/strict";
import { selectBackend } from "../shared/engine/backend.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { computeGradients, readBuffers } from "../shared/engine/step.ts";
import { CsnModel, type ModelConfig } from "../shared/model/csn.ts";
import { Adam } from "../shared/model/optim.ts";
import { readFlat } from "../shared/engine/heap_read.ts";
import { REFERENCE_LOSS } from "../shared/model/loss.ts";
import { Replica } from "../shared/engine/replica.ts";
import { values } from "./support/values.ts";
import { tripletBatch } from "./support/triplet_batch.ts";
import { maxRelErr } from "./support/compare.ts";

const LR = 1e-2;
const native = probeNative();
const ignore = !native.ok && !Deno.env.get("CI");

async function step(backend: "wasm" | "native", config: ModelConfig) {
  await selectBackend(backend, () => {});
  const model = new CsnModel(config);
  const adam = new Adam(model.trainable);
  try {
    const { values: grads, stats } = await computeGradients(model, tripletBatch(config, 6), {
      microBatch: 3,
    });
    adam.apply(grads, LR);
    return {
      grads,
      loss: stats.loss,
      buffers: await readBuffers(model),
      weights: await readFlat(model.trainable.map((t) => t.variable)),
    };
  } finally {
    adam.dispose();
    model.dispose();
  }
}

for (const mode of ["csn", "task-specific"] as const) {
  Deno.test({
    name: `native training step matches wasm: ${mode}`,
    ignore,
    async fn() {
      const config: ModelConfig = {
        mode,
        masks: "learned",
        nConditions: 2,
        backbone: { inChannels: 3, inputSize: 32, width: 8, embedDim: 16 },
        seed: 3,
      };
      const ref = await step("wasm", config);
      const ours = await step("native", config);
      assert.ok(Math.abs(ours.loss - ref.loss) <= 1e-5 * Math.max(1, ref.loss), "loss");
      const g = maxRelErr(ours.grads, ref.grads);
      assert.ok(g <= 1e-3, `gradients off by ${g}`);
      const b = maxRelErr(ours.buffers, ref.buffers);
      assert.ok(b <= 1e-5, `running statistics off by ${b}`);
      const gmax = ref.grads.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      let clear = 0;
      ref.weights.forEach((w, i) => {
        const diff = Math.abs(ours.weights[i]! - w);
        const firm = Math.abs(ref.grads[i]!) >= 1e-3 * gmax;
        if (firm) clear++;
        assert.ok(diff <= (firm ? 1e-6 : 2 * LR + 1e-6), `weight ${i} off by ${diff}`);
      });
      assert.ok(clear > ref.weights.length / 2, "most gradients are clearly nonzero");
    },
  });
}

Deno.test({
  name: "a checkpoint written on native loads on wasm and embeds the same (1e-4)",
  ignore,
  async fn() {
    const config: ModelConfig = {
      mode: "csn",
      masks: "learned",
      nConditions: 2,
      backbone: { inChannels: 1, inputSize: 32, width: 4, embedDim: 8 },
      seed: 5,
    };
    const training = { microBatch: 4, batched: false, loss: REFERENCE_LOSS };
    const images = values(4 * 32 * 32, 21);
    const trained = await Replica.create({ config, backend: "native", training }, () => {});
    let bytes: Uint8Array, ours: Float32Array[];
    try {
      await trained.apply(
        (await trained.gradients(tripletBatch(config, 4))).values,
        await readBuffers(
          trained.model,
        ),
        LR,
      );
      bytes = await trained.checkpoint({ epoch: 1, step: 1, rng: "{}", params: {} });
      ours = await trained.embed(images, 4);
    } finally {
      trained.close();
    }
    const loaded = await Replica.create({ config, backend: "wasm", checkpoint: bytes }, () => {});
    try {
      const theirs = await loaded.embed(images, 4);
      const err = maxRelErr(ours[0]!, theirs[0]!);
      assert.ok(err <= 1e-4, `embeddings differ by ${err}`);
    } finally {
      loaded.close();
    }
  },
});
