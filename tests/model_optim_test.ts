/** shared/model/optim.ts: Adam against a float64 loop, exact resume, the lr schedule. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { Adam, learningRate } from "../shared/model/optim.ts";
import { exportAdamState, importAdamState } from "../shared/weights/adam_state.ts";
import { decodeSafetensors, encodeSafetensors } from "../shared/weights/safetensors.ts";
import { maxAbsDiff, quiet } from "./support/tiny_model.ts";
import { values } from "./support/values.ts";

Deno.test("Adam equals a float64 loop; exported state resumes exactly; lr schedule", async () => {
  await selectBackend("cpu", quiet);
  const p0 = values(6, 61);
  const grads = [values(6, 62), values(6, 63), values(6, 64)];
  const param = {
    name: "w",
    variable: tf.variable(tf.tensor1d(p0)),
    layout: "plain",
    trainable: true,
  } as const;
  const adam = new Adam([param]);
  const p = Float64Array.from(p0), m = new Float64Array(6), v = new Float64Array(6);
  grads.forEach((g, t) => {
    adam.apply([tf.tensor1d(g)], 1e-2);
    for (let i = 0; i < 6; i++) {
      m[i] = 0.9 * m[i]! + 0.1 * g[i]!;
      v[i] = 0.999 * v[i]! + 0.001 * g[i]! ** 2;
      const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - 0.999 ** (t + 1)) + 1e-8;
      p[i] = p[i]! - (1e-2 / (1 - 0.9 ** (t + 1))) * m[i]! / denom;
    }
  });
  assert.ok(maxAbsDiff(param.variable.dataSync(), p) < 1e-6);
  assert.equal(adam.step, 3);

  // resume: a fresh optimiser loaded from the exported state continues identically
  const resumed = new Adam([{ ...param, variable: tf.variable(param.variable.clone()) }]);
  const saved = encodeSafetensors(await exportAdamState(adam));
  importAdamState(resumed, decodeSafetensors(saved).tensors, adam.step);
  const g4 = values(6, 65);
  adam.apply(Float32Array.from(g4), 1e-2);
  resumed.apply(Float32Array.from(g4), 1e-2);
  assert.deepEqual(resumed.params[0]!.variable.dataSync(), param.variable.dataSync());
  assert.throws(() => importAdamState(resumed, new Map(), 1), /"w.exp_avg" is missing/);

  assert.ok(Math.abs(learningRate(5e-5, 1) - 5e-5 * 0.985) < 1e-18);
  assert.ok(Math.abs(learningRate(5e-5, 10) - 5e-5 * 0.985 ** 10) < 1e-18);
  assert.throws(() => learningRate(5e-5, 0), /1-based/);
});
