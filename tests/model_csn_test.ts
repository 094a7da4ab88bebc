/**
 * shared/model/csn.ts: seeds reproduce weights, each training mode learns a tiny fixed batch,
 * task-specific routing. Tiny networks (width 4, 32x32) so the file runs in seconds.
 */
import assert from "node:assert/strict";
import { selectBackend } from "../shared/engine/backend.ts";
import type { Mode } from "../shared/model/choices.ts";
import type { MaskKind } from "../shared/model/masks.ts";
import { Adam } from "../shared/model/optim.ts";
import { exportState } from "../shared/weights/state_dict.ts";
import { computeGradients } from "../shared/engine/step.ts";
import { trainStep } from "./support/step.ts";
import { maxAbsDiff, model, quiet, tinyBatch } from "./support/tiny_model.ts";

Deno.test("seeds: every seed, 0 included, reproduces its weights; other seeds differ", async () => {
  await selectBackend("cpu", quiet);
  const weights = async (mode: Mode, seed: number) => {
    const m = model(mode, "learned", seed);
    const state = await exportState(m);
    m.dispose();
    return state;
  };
  for (const mode of ["csn", "task-specific"] as const) {
    const [a, b, c] = [await weights(mode, 0), await weights(mode, 0), await weights(mode, 1)];
    for (const [name, t] of a) {
      assert.deepEqual(b.get(name)!.data, t.data, `seed 0 reproduces ${mode} ${name}`);
      if (name.endsWith("weight") && !name.includes("bn") && !name.includes("downsample.1")) {
        assert.ok(
          maxAbsDiff(c.get(name)!.data as Float32Array, t.data as Float32Array) > 0.01,
          name,
        );
      }
    }
    if (mode === "csn") {
      const masks = a.get("masks.weight")!.data as Float32Array;
      assert.ok(maxAbsDiff(masks, c.get("masks.weight")!.data as Float32Array) > 0.01);
    } else {
      const first = a.get("nets.0.conv1.weight")!.data as Float32Array;
      assert.ok(maxAbsDiff(first, a.get("nets.1.conv1.weight")!.data as Float32Array) > 0.01);
    }
  }
  // Independent of the backend: the values are drawn on the host.
  await selectBackend("wasm", quiet);
  const onWasm = await weights("csn", 0);
  await selectBackend("cpu", quiet);
  const onCpu = await weights("csn", 0);
  for (const [name, t] of onCpu) assert.deepEqual(onWasm.get(name)!.data, t.data, name);
});

Deno.test("each mode trains on a tiny fixed batch: loss falls; fixed masks stay, learned move", async () => {
  await selectBackend("wasm", quiet);
  const cases: [Mode, MaskKind][] = [
    ["csn", "fixed"],
    ["csn", "learned"],
    ["standard", "fixed"],
    ["task-specific", "fixed"],
  ];
  for (const [mode, kind] of cases) {
    const net = model(mode, kind);
    const adam = new Adam(net.trainable);
    const batch = tinyBatch(net, 6, 31);
    const masksBefore = net.masks?.tensor.variable.dataSync().slice();
    const losses: number[] = [];
    for (let i = 0; i < 8; i++) {
      losses.push((await trainStep(net, adam, batch, { microBatch: 4, lr: 1e-2 })).loss);
    }
    const tail = Math.min(...losses.slice(-3));
    assert.ok(
      tail < losses[0]! * 0.8,
      `${mode}/${kind}: losses ${losses.map((l) => l.toFixed(3))}`,
    );
    if (masksBefore) {
      const after = net.masks!.tensor.variable.dataSync();
      if (kind === "fixed") assert.deepEqual(after, masksBefore);
      else assert.ok(maxAbsDiff(after, masksBefore) > 1e-3, "learned masks moved");
    }
    if (mode === "task-specific") {
      assert.equal(net.backbones.length, 2);
      assert.ok(net.tensors.some((t) => t.name === "nets.1.layer3.1.bn2.running_var"));
    }
    net.dispose();
    adam.dispose();
  }
});

Deno.test("task-specific routing: a condition's triplets only reach its own network", async () => {
  await selectBackend("wasm", quiet);
  const net = model("task-specific");
  const batch = tinyBatch(net, 4, 41);
  batch.conditions.fill(1);
  const { values: g } = await computeGradients(net, batch, { microBatch: 4 });
  let offset = 0;
  for (const t of net.trainable) {
    const part = g.subarray(offset, offset + t.variable.size);
    offset += t.variable.size;
    const nonzero = part.some((v) => v !== 0);
    if (t.name.startsWith("nets.0.")) assert.ok(!nonzero, `${t.name} got a gradient`);
    if (t.name.startsWith("nets.1.") && t.name.includes("conv")) assert.ok(nonzero, t.name);
  }
  net.dispose();
});
