/**
 * The library's training path on tfjs's webgpu backend: computeGradients, trainStep,
 * evaluateTriplets, exportState and Masks.values read with `await data()` (webgpu cannot
 * dataSync under Deno), and the gradients equal the cpu backend's (relative 1e-4).
 * Any adapter will do, a software one (llvmpipe) included; without one the test is ignored.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { CsnModel, type TripletImages } from "../shared/model/csn.ts";
import { Adam } from "../shared/model/optim.ts";
import { exportState } from "../shared/weights/state_dict.ts";
import { computeGradients } from "../shared/engine/step.ts";
import { evaluateTriplets, trainStep } from "./support/step.ts";
import { values } from "./support/values.ts";

if (!Deno.env.get("XDG_RUNTIME_DIR")) {
  Deno.env.set("XDG_RUNTIME_DIR", Deno.makeTempDirSync({ prefix: "csn-xdg-" }));
}
const adapter = await (globalThis.navigator as Navigator | undefined)?.gpu?.requestAdapter();

async function stepOn(backend: "webgpu" | "cpu") {
  if (backend === "webgpu") {
    await import("@tensorflow/tfjs-backend-webgpu");
    // Directly, not selectBackend: that refuses software adapters for real training.
    assert.ok(await tf.setBackend("webgpu"), "the webgpu backend starts");
  } else await selectBackend("cpu", () => {});
  const model = new CsnModel({
    mode: "csn",
    masks: "learned",
    nConditions: 2,
    backbone: { inChannels: 1, inputSize: 32, width: 4, embedDim: 8 },
    seed: 0,
  });
  const n = 4, size = model.imageSize;
  const batch: TripletImages = {
    anchor: values(n * size, 1),
    far: values(n * size, 2),
    close: values(n * size, 3),
    conditions: Int32Array.of(0, 1, 0, 1),
  };
  // Two micro-batches: stride-2 convolutions and accumulation on the device.
  const gradients = await computeGradients(model, batch, { microBatch: 2 });
  const adam = new Adam(model.trainable);
  const step = await trainStep(model, adam, batch, { microBatch: 2, lr: 1e-2 });
  const evaluated = await evaluateTriplets(model, batch, { microBatch: 4 });
  const state = await exportState(model);
  const masks = await model.masks!.values();
  adam.dispose();
  model.dispose();
  return { gradients, step, evaluated, state, masks, backend: tf.getBackend() };
}

Deno.test({
  name: "webgpu: a library training step runs and matches the cpu backend",
  ignore: !adapter,
  fn: async () => {
    const gpu = await stepOn("webgpu");
    const cpu = await stepOn("cpu");
    assert.equal(gpu.backend, "webgpu");
    const g = gpu.gradients.values, c = cpu.gradients.values;
    assert.equal(g.length, c.length);
    let err = 0, scale = 0;
    for (let i = 0; i < c.length; i++) {
      err = Math.max(err, Math.abs(g[i]! - c[i]!));
      scale = Math.max(scale, Math.abs(c[i]!));
    }
    assert.ok(scale > 0 && err / scale < 1e-4, `gradients differ: ${err} of ${scale}`);
    assert.ok(Math.abs(gpu.step.loss - cpu.step.loss) < 1e-5);
    assert.ok(Math.abs(gpu.evaluated.loss - cpu.evaluated.loss) < 1e-4);
    assert.deepEqual(gpu.evaluated.conditions, cpu.evaluated.conditions);
    for (const [name, t] of cpu.state) {
      if (t.dtype !== "F32") continue;
      const a = gpu.state.get(name)!.data as Float32Array, b = t.data as Float32Array;
      for (let i = 0; i < b.length; i++) {
        assert.ok(Math.abs(a[i]! - b[i]!) < 1e-4, `${name}[${i}] after one step`);
      }
    }
    assert.equal(gpu.masks.length, 2 * 8);
    assert.ok(gpu.masks.every((v) => v >= 0), "ReLU'd masks");
  },
});
