/**
 * shared/weights/state_dict.ts: torchvision resnet18 names and PyTorch layouts, parameter
 * counts, and an export/import round trip (strict and non-strict).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { CsnModel } from "../shared/model/csn.ts";
import { PRESETS } from "../shared/model/choices.ts";
import { Adam } from "../shared/model/optim.ts";
import { countParameters } from "../shared/model/resnet.ts";
import { decodeSafetensors, encodeSafetensors } from "../shared/weights/safetensors.ts";
import { exportState, importState } from "../shared/weights/state_dict.ts";
import { trainStep } from "./support/step.ts";
import { model, quiet, TINY, tinyBatch } from "./support/tiny_model.ts";

const TORCHVISION_KEPT: string[] = (() => {
  const bn = (p: string) =>
    ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"].map((s) =>
      `${p}.${s}`
    );
  const names = ["conv1.weight", ...bn("bn1")];
  for (const layer of [1, 2, 3]) {
    for (const block of [0, 1]) {
      const p = `layer${layer}.${block}`;
      names.push(`${p}.conv1.weight`, ...bn(`${p}.bn1`), `${p}.conv2.weight`, ...bn(`${p}.bn2`));
      if (layer > 1 && block === 0) {
        names.push(`${p}.downsample.0.weight`, ...bn(`${p}.downsample.1`));
      }
    }
  }
  return names;
})();

Deno.test("weights: torchvision resnet18 names and PyTorch layouts; export/import round trip", async () => {
  await selectBackend("cpu", quiet);
  const paper = new CsnModel({
    mode: "csn",
    masks: "fixed",
    nConditions: 4,
    backbone: PRESETS.paper,
    seed: 1,
  });
  const state = await exportState(paper);
  const extra = ["fc_embed.weight", "fc_embed.bias", "masks.weight"];
  assert.deepEqual([...state.keys()].sort(), [...TORCHVISION_KEPT, ...extra].sort());
  assert.deepEqual(state.get("conv1.weight")!.shape, [64, 3, 7, 7]);
  assert.deepEqual(state.get("layer2.0.downsample.0.weight")!.shape, [128, 64, 1, 1]);
  assert.deepEqual(state.get("layer3.1.conv2.weight")!.shape, [256, 256, 3, 3]);
  assert.deepEqual(state.get("fc_embed.weight")!.shape, [64, 256]);
  assert.deepEqual(state.get("masks.weight")!.shape, [4, 64]);
  assert.equal(state.get("bn1.num_batches_tracked")!.dtype, "I64");
  assert.equal(countParameters(paper.trainable), 2_799_232); // SPEC: about 2.8 M
  const small = new CsnModel({
    mode: "csn",
    masks: "fixed",
    nConditions: 4,
    backbone: PRESETS.small,
    seed: 1,
  });
  assert.equal(countParameters(small.trainable) - 4 * 64, 179_120 - 256); // SPEC: 179 k
  // init: conv weights ~ N(0, sqrt(2 / (k*k*out)))
  const w = state.get("layer3.1.conv2.weight")!.data as Float32Array;
  const sd = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  assert.ok(Math.abs(sd / Math.sqrt(2 / (9 * 256)) - 1) < 0.02, `conv init sd ${sd}`);
  // OIHW conversion: element [o, i, h, w] of the export is HWIO [h, w, i, o] inside
  const hwio = paper.tensors[0]!.variable.arraySync() as number[][][][];
  const oihw = state.get("conv1.weight")!.data;
  assert.equal(oihw[((5 * 3 + 2) * 7 + 1) * 7 + 4], hwio[1]![4]![2]![5]);
  paper.dispose();
  small.dispose();

  // round trip through safetensors into a differently seeded model: identical outputs
  const a = model("csn", "learned", 1), b = model("csn", "learned", 2);
  const batch = tinyBatch(a, 2, 71);
  await trainStep(a, new Adam(a.trainable), batch, { microBatch: 2, lr: 1e-2 }); // BN stats too
  const bytes = encodeSafetensors(await exportState(a), { format: "pt" });
  const report = importState(b, decodeSafetensors(bytes, "a.safetensors").tensors, {
    strict: true,
  });
  assert.equal(report.loaded.length, (await exportState(a)).size);
  const out = (m: CsnModel) => tf.tidy(() => m.embed(batch.anchor, 2, 0, 1).dataSync());
  assert.deepEqual(out(b), out(a));
  // non-strict: an RGB conv1 does not fit a grayscale net and is reported, the rest loads
  const rgb = await exportState(
    new CsnModel({ ...a.config, backbone: { ...TINY, inChannels: 3 } }),
  );
  const partial = importState(b, rgb, { strict: false });
  assert.ok(partial.skipped.some((s) => s.startsWith("conv1.weight: F32 [4,3,7,7]")));
  assert.throws(
    () => importState(b, rgb, { strict: true, source: "rgb.safetensors" }),
    /rgb\.safetensors.*conv1/,
  );
  a.dispose();
  b.dispose();
});
