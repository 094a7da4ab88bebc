/**
 * The native backend's one-pass Adam against the unfused tfjs ops on wasm: three updates of
 * parameters of several shapes from the same start must give the same float32 bits (the kernel
 * rounds every operation to float32 in the order the ops do), for weights and both moments,
 * with the gradients as tensors or as one flat array; one kernel call updates every parameter.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { Adam } from "../shared/model/optim.ts";
import { exportAdamState } from "../shared/weights/adam_state.ts";
import type { ModelTensor } from "../shared/model/resnet.ts";
import { values } from "./support/values.ts";

const SHAPES = [[3, 3, 4, 5], [7], [16, 8]];

async function threeSteps(
  backend: "wasm" | "native",
  flat = false,
): Promise<{ tensors: Float32Array[]; kernels: string[] }> {
  await selectBackend(backend, () => {});
  const params: ModelTensor[] = SHAPES.map((shape, i) => ({
    name: `p${i}`,
    variable: tf.variable(tf.tensor(values(shape.reduce((a, b) => a * b, 1), i + 1), shape)),
    layout: "plain",
    trainable: true,
  }));
  const adam = new Adam(params);
  const kernels: string[] = [];
  try {
    for (let step = 0; step < 3; step++) {
      const grads = SHAPES.map((shape, i) => {
        const g = values(shape.reduce((a, b) => a * b, 1), 100 * step + i);
        if (i === 1) g[0] = 0; // a zero gradient: the update is exactly 0 / eps-bounded
        return tf.tensor(g, shape);
      });
      const all = new Float32Array(grads.reduce((n, g) => n + g.size, 0));
      grads.reduce((at, g) => (all.set(g.dataSync(), at), at + g.size), 0);
      const info = await tf.profile(() => adam.apply(flat ? all : grads, 1e-2 * (step + 1)));
      kernels.push(...info.kernelNames);
      tf.dispose(grads);
    }
    const state = await exportAdamState(adam);
    const weights = await Promise.all(
      params.map((p) => p.variable.data() as Promise<Float32Array>),
    );
    return {
      tensors: [...weights, ...[...state.values()].map((t) => t.data as Float32Array)],
      kernels,
    };
  } finally {
    adam.dispose();
    params.forEach((p) => p.variable.dispose());
  }
}

Deno.test({
  name: "native fused Adam gives the bits of the unfused ops on wasm",
  ignore: !probeNative().ok && !Deno.env.get("CI"),
  async fn() {
    const ref = await threeSteps("wasm");
    assert.ok(!ref.kernels.includes("NativeAdam"));
    for (const flat of [false, true]) {
      const ours = await threeSteps("native", flat);
      assert.deepEqual(ours.kernels, ["NativeAdam", "NativeAdam", "NativeAdam"], "one per step");
      assert.equal(ours.tensors.length, ref.tensors.length);
      ref.tensors.forEach((r, i) => assert.deepEqual(ours.tensors[i], r, `tensor ${i}, ${flat}`));
    }
  },
});
