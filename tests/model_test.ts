/**
 * shared/model: masks, loss (vs a float64 loop), BatchNorm, the four training modes, micro-
 * batch accumulation, Adam (vs a float64 loop) and exact resume, weight names and layouts,
 * safetensors bytes. Tiny networks (width 4, 32x32) so the file runs in seconds.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { BACKEND_CHOICES } from "../shared/engine/choices.ts";
import { selectBackend } from "../shared/engine/backend.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { batchNormTrain } from "../shared/model/batch_norm.ts";
import {
  decodeCheckpoint,
  encodeCheckpoint,
  modelFromCheckpoint,
  restoreOptimiser,
} from "../shared/model/checkpoint.ts";
import { CsnModel, type Mode, type TripletImages } from "../shared/model/csn.ts";
import { REFERENCE_LOSS, tripletAccuracy, tripletLoss } from "../shared/model/loss.ts";
import { disjointMasks, type MaskKind, Masks } from "../shared/model/masks.ts";
import { Adam, learningRate } from "../shared/model/optim.ts";
import { type BackboneConfig, countParameters, PRESETS } from "../shared/model/resnet.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafeTensor,
} from "../shared/model/safetensors.ts";
import { exportState, importState } from "../shared/model/state_dict.ts";
import {
  computeGradients,
  readBuffers,
  sliceBatch,
  trainStep,
  writeBuffers,
} from "../shared/engine/step.ts";
import { values } from "./support/values.ts";

const quiet = () => {};
const TINY: BackboneConfig = { inChannels: 1, inputSize: 32, width: 4, embedDim: 8 };

function tinyBatch(model: CsnModel, n: number, seed: number): TripletImages {
  const size = model.imageSize;
  return {
    anchor: values(n * size, seed),
    far: values(n * size, seed + 1),
    close: values(n * size, seed + 2),
    conditions: Int32Array.from({ length: n }, (_, i) => i % model.config.nConditions),
  };
}

function model(mode: Mode, masks: MaskKind = "fixed", seed = 3): CsnModel {
  return new CsnModel({ mode, masks, nConditions: 2, backbone: TINY, seed });
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

Deno.test("selectBackend: explicit cpu, auto, and a clear error for a missing tfjs-node", async () => {
  assert.deepEqual((await selectBackend("cpu", quiet)).name, "cpu");
  const auto = await selectBackend("auto", quiet);
  assert.ok(["tensorflow", "webgpu", "native", "wasm", "cpu"].includes(auto.name), auto.name);
  if (probeNative().ok && auto.name !== "tensorflow" && auto.name !== "webgpu") {
    assert.equal(auto.name, "native", "auto prefers oneDNN where it loads");
  }
  assert.ok(auto.reason.length > 0);
  assert.deepEqual(BACKEND_CHOICES, ["auto", "tensorflow", "webgpu", "native", "wasm", "cpu"]);
  if (auto.name !== "tensorflow") {
    await assert.rejects(
      selectBackend("tensorflow", quiet),
      /deno add npm:@tensorflow\/tfjs-node@4\.22\.0.*libtensorflow/,
    );
  }
});

Deno.test("masks: fixed disjoint blocks, prein, learned init, n > d rejected", async () => {
  await selectBackend("cpu", quiet);
  const fixed = disjointMasks(4, 10);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 10; j++) {
      const want = j >= i * 2 && j < (i + 1) * 2 ? 1 : 0; // floor(10/4) = 2 dims each
      assert.equal(fixed[i * 10 + j], want, `fixed[${i}][${j}]`);
    }
  }
  const prein = new Masks("prein", 4, 10, 1);
  assert.deepEqual(Array.from(await prein.values()), Array.from(disjointMasks(4, 10, 0.1)));
  const learned = new Masks("learned", 16, 64, 1);
  const raw = learned.tensor.variable.dataSync() as Float32Array;
  const mean = raw.reduce((a, b) => a + b, 0) / raw.length;
  const sd = Math.sqrt(raw.reduce((a, b) => a + (b - mean) ** 2, 0) / raw.length);
  assert.ok(Math.abs(mean - 0.9) < 0.1 && Math.abs(sd - 0.7) < 0.1, `N(0.9,0.7)? ${mean} ${sd}`);
  const used = await learned.values();
  assert.ok(used.every((v, i) => v === Math.max(raw[i]!, 0)), "ReLU applied");
  // rows(): one-hot lookup equals the ReLU'd row
  const rows = learned.rows([3, 0, 3]).arraySync();
  assert.deepEqual(rows[0], Array.from(used.slice(3 * 64, 4 * 64)));
  assert.deepEqual(rows[1], Array.from(used.slice(0, 64)));
  assert.throws(() => new Masks("fixed", 65, 64, 1), /65 conditions .* 64-dimensional/);
  assert.throws(() => learned.rows([16]), /condition 16 is not in 0..15/);
  tf.dispose([prein.tensor.variable, learned.tensor.variable]);
});

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

Deno.test("loss and accuracy equal a float64 per-triplet loop (tolerance 1e-5)", async () => {
  await selectBackend("wasm", quiet);
  const n = 5, d = 6;
  const e = [values(n * d, 11), values(n * d, 12), values(n * d, 13)];
  const m = values(n * d, 14).map((v) => Math.max(v, 0)); // ReLU'd mask rows
  for (const withMasks of [true, false]) {
    const got = tf.tidy(() => {
      const t = (a: Float32Array) => tf.tensor2d(a, [n, d]);
      const p = tripletLoss({
        anchor: t(e[0]!),
        far: t(e[1]!),
        close: t(e[2]!),
        masks: withMasks ? t(m) : null,
      });
      return [p.total, p.triplet, p.embed, p.mask, p.distA, p.distB].map((x) =>
        Array.from(x.dataSync())
      );
    }) as unknown as number[][];
    // naive
    const mk = (k: number, i: number, j: number) =>
      e[k]![i * d + j]! * (withMasks ? m[i * d + j]! : 1);
    const distA: number[] = [], distB: number[] = [];
    let hinge = 0;
    for (let i = 0; i < n; i++) {
      let sa = 0, sb = 0;
      for (let j = 0; j < d; j++) {
        sa += (mk(0, i, j) - mk(1, i, j)) ** 2;
        sb += (mk(0, i, j) - mk(2, i, j)) ** 2;
      }
      distA.push(Math.sqrt(sa));
      distB.push(Math.sqrt(sb));
      hinge += Math.max(0, Math.sqrt(sb) - Math.sqrt(sa) + 0.2);
    }
    const frob = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
    const embed = (frob(e[0]!) + frob(e[1]!) + frob(e[2]!)) / 3 / Math.sqrt(n);
    const mask = withMasks ? m.reduce((s, v) => s + Math.abs(v), 0) / n : 0;
    const triplet = hinge / n;
    const total = triplet + 5e-3 * embed + 5e-4 * mask;
    const want = [[total], [triplet], [embed], [mask], distA, distB];
    want.forEach((w, k) => {
      assert.ok(maxAbsDiff(got[k]!, w) < 1e-5, `masks=${withMasks} part ${k}: ${got[k]} vs ${w}`);
    });
    assert.ok(distA.some((a, i) => a > distB[i]!) && distA.some((a, i) => a <= distB[i]!));
  }
  const acc = tripletAccuracy([3, 1, 2, 5], [1, 2, 2, 4], [0, 1, 1, 0], 3);
  assert.equal(acc.accuracy, 0.5); // 3>1 yes, 1>2 no, 2>2 no (strict), 5>4 yes
  assert.deepEqual(acc.perCondition.map((p) => [p.correct, p.count]), [[2, 2], [0, 2], [0, 0]]);
  assert.ok(Number.isNaN(acc.perCondition[2]!.accuracy));
  assert.equal(REFERENCE_LOSS.margin, 0.2);
});

Deno.test("BatchNorm: hand-written gradient equals autodiff; running stats as PyTorch", async () => {
  await selectBackend("cpu", quiet);
  const x = tf.tensor4d(values(3 * 4 * 5 * 2, 21).map((v, i) => v * (1 + (i % 2)) + (i % 2)), [
    3,
    4,
    5,
    2,
  ]);
  const gamma = tf.tensor1d([1.5, -0.5]), beta = tf.tensor1d([0.1, 0.2]);
  const r = tf.tensor4d(values(3 * 4 * 5 * 2, 22), [3, 4, 5, 2]);
  const naive = (a: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => {
    const { mean, variance } = tf.moments(a, [0, 1, 2]);
    return tf.add(tf.mul(tf.div(tf.sub(a, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  };
  const ours = (a: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => {
    const o = batchNormTrain(a, g, b, 1e-5);
    tf.dispose([o.mean, o.variance]);
    return o.y;
  };
  const grads = (f: typeof naive) =>
    tf.grads((a, g, b) =>
      tf.sum(tf.mul(f(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D), r))
    )(
      [x, gamma, beta],
    ).map((t) => t.dataSync());
  assert.ok(maxAbsDiff(ours(x, gamma, beta).dataSync(), naive(x, gamma, beta).dataSync()) < 1e-5);
  grads(ours).forEach((g, i) => assert.ok(maxAbsDiff(g, grads(naive)[i]!) < 1e-4, `grad ${i}`));

  // Backbone: training mode updates running stats with momentum 0.1 and unbiased variance;
  // eval mode uses them and changes nothing.
  const m = model("standard");
  const net = m.backbones[0]!;
  const input = tf.tensor4d(values(2 * 32 * 32, 23), [2, 32, 32, 1]);
  const conv1 = tf.conv2d(input, net.tensors[0]!.variable as tf.Tensor4D, 2, [[0, 0], [3, 3], [
    3,
    3,
  ], [0, 0]]);
  const c = conv1.dataSync(), channels = 4, count = c.length / channels;
  const mean = new Float64Array(channels), sq = new Float64Array(channels);
  c.forEach((v, i) => (mean[i % channels]! += v / count));
  c.forEach((v, i) => (sq[i % channels]! += (v - mean[i % channels]!) ** 2));
  const bufferName = (s: string) => m.tensors.find((t) => t.name === s)!.variable;
  const evalBefore = net.forward(input, false).dataSync();
  const train1 = net.forward(input, true).dataSync();
  const rm = bufferName("bn1.running_mean").dataSync();
  const rv = bufferName("bn1.running_var").dataSync();
  for (let k = 0; k < channels; k++) {
    assert.ok(Math.abs(rm[k]! - 0.1 * mean[k]!) < 1e-5, `running_mean[${k}]`);
    assert.ok(Math.abs(rv[k]! - (0.9 + 0.1 * sq[k]! / (count - 1))) < 1e-5, `running_var[${k}]`);
  }
  assert.equal(net.batchesTracked.get("bn1"), 1);
  const train2 = net.forward(input, true).dataSync();
  assert.ok(maxAbsDiff(train1, train2) < 1e-6, "training mode uses batch statistics");
  const before = await readBuffers(m);
  const evalAfter = net.forward(input, false).dataSync();
  assert.deepEqual(await readBuffers(m), before, "eval mode leaves running stats alone");
  assert.ok(maxAbsDiff(evalBefore, evalAfter) > 1e-4, "eval mode uses running statistics");
  assert.ok(maxAbsDiff(train2, evalAfter) > 1e-4);
  writeBuffers(m, new Float32Array(before.length).fill(0.5));
  assert.ok((await readBuffers(m)).every((v) => v === 0.5));
  m.dispose();
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
  const saved = encodeSafetensors(await adam.exportState());
  resumed.importState(decodeSafetensors(saved).tensors, adam.step);
  const g4 = values(6, 65);
  adam.apply(Float32Array.from(g4), 1e-2);
  resumed.apply(Float32Array.from(g4), 1e-2);
  assert.deepEqual(resumed.params[0]!.variable.dataSync(), param.variable.dataSync());
  assert.throws(() => resumed.importState(new Map(), 1), /"w.exp_avg" is missing/);

  assert.ok(Math.abs(learningRate(5e-5, 1) - 5e-5 * 0.985) < 1e-18);
  assert.ok(Math.abs(learningRate(5e-5, 10) - 5e-5 * 0.985 ** 10) < 1e-18);
  assert.throws(() => learningRate(5e-5, 0), /1-based/);
});

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

Deno.test("safetensors: byte layout per the format, round trip, corrupt files rejected", () => {
  const tensors = new Map<string, SafeTensor>([
    ["b.f32", { dtype: "F32", shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, 1e-8, 7]) }],
    ["a.i64", { dtype: "I64", shape: [], data: BigInt64Array.of(-5n) }],
    ["c.u8", { dtype: "U8", shape: [3], data: Uint8Array.of(1, 2, 255) }],
    ["d.empty", { dtype: "F32", shape: [0, 4], data: new Float32Array(0) }],
    ["e.f64", { dtype: "F64", shape: [1], data: Float64Array.of(Math.PI) }],
    ["f.i32", { dtype: "I32", shape: [2], data: Int32Array.of(-1, 2 ** 30) }],
  ]);
  const bytes = encodeSafetensors(tensors, { step: "12" });
  const view = new DataView(bytes.buffer);
  const n = Number(view.getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0, "data starts 8-aligned");
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.ok(headerText.startsWith("{") && /^[^]*\} *$/.test(headerText), "JSON, space padded");
  const header = JSON.parse(headerText);
  assert.deepEqual(header.__metadata__, { step: "12" });
  assert.deepEqual(header["b.f32"], { dtype: "F32", shape: [2, 3], data_offsets: [16, 40] });
  assert.deepEqual(header["a.i64"].data_offsets, [0, 8]); // 8-byte dtypes first, then by name
  assert.deepEqual(header["e.f64"].data_offsets, [8, 16]);
  assert.equal(bytes.length, 8 + n + 8 + 8 + 24 + 8 + 3);
  assert.equal(view.getFloat32(8 + n + 16 + 4 * 2, true), 3.5, "little-endian F32 at its offset");
  assert.equal(view.getBigInt64(8 + n, true), -5n);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, { step: "12" });
  for (const [name, t] of tensors) assert.deepEqual(back.tensors.get(name), t, name);

  const corrupt = (edit: (b: Uint8Array) => Uint8Array) => edit(bytes.slice());
  assert.throws(() => decodeSafetensors(bytes.subarray(0, 5), "x.st"), /"x.st".*shorter/);
  assert.throws(
    () => decodeSafetensors(corrupt((b) => b.subarray(0, b.length - 1)), "x.st"),
    /x.st/,
  );
  const bad = corrupt((b) => {
    new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true);
    return b;
  });
  assert.throws(() => decodeSafetensors(bad, "x.st"), /header length/);
  const holey = corrupt((b) => {
    const text = new TextDecoder().decode(b.subarray(8, 8 + n)).replace("[16,40]", "[17,41]");
    b.set(new TextEncoder().encode(text), 8);
    return b;
  });
  assert.throws(() => decodeSafetensors(holey, "x.st"), /without holes|spans|starts at/);
});

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
    /"csn.model" is missing/,
  );
  [a, b].forEach((m) => m.dispose());
  [adamA, adamB].forEach((o) => o.dispose());
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
