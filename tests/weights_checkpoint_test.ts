/** shared/weights/checkpoint.ts: resume after a save continues bit for bit. */
import assert from "node:assert/strict";
import { selectBackend } from "../shared/engine/backend.ts";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  modelFromCheckpoint,
  restoreOptimiser,
} from "../shared/weights/checkpoint.ts";
import { Adam } from "../shared/model/optim.ts";
import { encodeSafetensors } from "../shared/weights/safetensors.ts";
import { exportState } from "../shared/weights/state_dict.ts";
import { trainStep } from "./support/step.ts";
import { model, quiet, tinyBatch } from "./support/tiny_model.ts";

Deno.test("checkpoint: resume after a save continues bit for bit", async () => {
  await selectBackend("wasm", quiet);
  const a = model("csn", "learned", 5);
  const adamA = new Adam(a.trainable);
  const batch = tinyBatch(a, 4, 81);
  const opts = { microBatch: 2, lr: 1e-2 };
  await trainStep(a, adamA, batch, opts);
  await trainStep(a, adamA, batch, opts);
  const params = { lr: 1e-2, note: "x" };
  const bytes = await encodeCheckpoint(a, adamA, {
    epoch: 1,
    step: 2,
    rng: "[1,2,3,4]",
    params,
  });
  const ckpt = decodeCheckpoint(bytes, "last.safetensors");
  assert.deepEqual(ckpt.meta, { epoch: 1, step: 2, rng: "[1,2,3,4]", params });
  assert.deepEqual(ckpt.config, a.config);
  const b = modelFromCheckpoint(ckpt, "last.safetensors");
  const adamB = new Adam(b.trainable);
  restoreOptimiser(adamB, ckpt);
  assert.equal(adamB.step, 2);
  await trainStep(a, adamA, batch, opts);
  await trainStep(b, adamB, batch, opts);
  const sa = await exportState(a), sb = await exportState(b);
  for (const [name, t] of sa) assert.deepEqual(sb.get(name)!.data, t.data, name);
  // 3 steps x 2 micro-batches x 3 forward passes (anchor, far, close)
  assert.deepEqual(sa.get("bn1.num_batches_tracked")!.data, BigInt64Array.of(18n));
  const noMeta = await encodeCheckpoint(a, null, { epoch: 0, step: 0, rng: "", params: {} });
  assert.equal(decodeCheckpoint(noMeta, "w.safetensors").optimiser.size, 0);
  assert.throws(
    () => decodeCheckpoint(encodeSafetensors(sa), "w.safetensors"),
    (error: Error) => {
      assert.match(
        error.message,
        /^Cannot read checkpoint "w\.safetensors": metadata "csn\.model" is missing \(not a csn checkpoint/,
      );
      assert.doesNotMatch(error.message, /not JSON/, "a missing field is not a JSON error");
      return true;
    },
  );
  // A config that does not describe a model is refused at decode, naming the field.
  const badConfig = encodeSafetensors(sa, {
    "csn.model": JSON.stringify({ ...a.config, backbone: { ...a.config.backbone, width: 0 } }),
    "csn.epoch": "0",
    "csn.step": "0",
    "csn.rng": "",
    "csn.params": "{}",
    "csn.adam_step": "0",
  });
  assert.throws(
    () => decodeCheckpoint(badConfig, "bad.safetensors"),
    /Cannot read checkpoint "bad.safetensors": csn\.model\.backbone\.width expected/,
  );
  [a, b].forEach((m) => m.dispose());
  [adamA, adamB].forEach((o) => o.dispose());
});
