/**
 * shared/weights/onnx_csn.ts: the ONNX file of every model kind csn trains, run in
 * onnxruntime-node, against csn's own eval engine (the same checkpoint bytes, the same
 * images): every embedding and masked embedding within 1e-4. BatchNorm statistics, scales and
 * learned masks are set away from their initial values so that each of them counts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import onnxProto from "onnx-proto";
import { CsnModel, type ModelConfig } from "../shared/model/csn.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../shared/weights/checkpoint.ts";
import { encodeCsnOnnx, INPUT, OPSET, OUTPUTS } from "../shared/weights/onnx_csn.ts";
import { Engine } from "../shared/engine/engine.ts";
import { selectBackend } from "../shared/engine/backend.ts";
import { maxAbsDiff, quiet } from "./support/tiny_model.ts";
import { values } from "./support/values.ts";

const TOLERANCE = 1e-4;
const NORMALISATION = { mean: [0.5], std: [0.5] };

/** A model of `config` with BatchNorm and mask tensors moved off their initial values. */
function perturbed(config: ModelConfig): CsnModel {
  const model = new CsnModel(config);
  model.tensors.forEach((t, i) => {
    const v = values(t.variable.size, 100 + i);
    const name = t.name;
    let next: Float32Array | undefined;
    if (/running_var$|bn\d\.weight$|downsample\.1\.weight$/.test(name)) {
      next = v.map((x) => 0.6 + 0.5 * x); // positive scales and variances
    } else if (/running_mean$|\.bias$/.test(name) && !name.startsWith("fc")) {
      next = v.map((x) => 0.3 * x);
    } else if (name === "masks.weight" && config.masks !== "fixed") {
      next = v.map((x) => x + 0.3); // some negative: the ReLU matters
    }
    if (next) t.variable.assign(tf.tensor(next, t.variable.shape));
  });
  return model;
}

/** NHWC -> NCHW, the layouts of csn's engine and of the ONNX input. */
function toNchw(x: Float32Array, n: number, size: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < size * size; p++) {
      for (let k = 0; k < c; k++) {
        out[((i * c + k) * size * size) + p] = x[(i * size * size + p) * c + k]!;
      }
    }
  }
  return out;
}

/** A perturbed model's checkpoint bytes and its ONNX file. */
async function exported(config: ModelConfig, names: string[]) {
  const model = perturbed(config);
  const bytes = await encodeCheckpoint(model, null, { epoch: 1, step: 1, rng: "", params: {} });
  model.dispose();
  const ckpt = decodeCheckpoint(bytes, "tiny.safetensors");
  return {
    bytes,
    file: encodeCsnOnnx({
      config: ckpt.config,
      weights: ckpt.weights,
      conditionNames: names,
      normalisation: {
        mean: Array(config.backbone.inChannels).fill(0.5),
        std: Array(config.backbone.inChannels).fill(0.5),
      },
      source: "tiny.safetensors",
    }),
  };
}

async function roundTrip(config: ModelConfig, names: string[]): Promise<void> {
  const { bytes, file } = await exported(config, names);
  const decoded = onnxProto.onnx.ModelProto.decode(file);
  assert.equal(Number(decoded.opsetImport[0]!.version), OPSET);
  assert.ok(OPSET >= 13);
  const notions = decoded.metadataProps.find((p) => p.key === "csn.notions")?.value;
  assert.deepEqual(JSON.parse(notions ?? "null"), names);

  const { inputSize: s, inChannels: c, embedDim: d } = config.backbone;
  const n = 5, pixels = s * s * c, k = names.length;
  const images = values(n * pixels, 7).map((x) => 2 * x); // normalised values of [-2, 2)
  const engine = await Engine.open({
    workers: 0,
    model: { config, backend: "auto", checkpoint: bytes },
    log: quiet,
  });
  let expected: Float32Array[], masks: Float32Array | null;
  try {
    expected = await engine.embed(images, n, pixels);
    masks = await engine.masks();
  } finally {
    engine.close();
  }
  const session = await ort.InferenceSession.create(file);
  const out = await session.run({
    [INPUT]: new ort.Tensor("float32", toNchw(images, n, s, c), [n, c, s, s]),
  });
  const embedding = out[OUTPUTS.embedding]!, masked = out[OUTPUTS.masked]!;
  assert.deepEqual(masked.dims, [n, k, d]);
  const got = masked.data as Float32Array;
  const wantMasked = new Float32Array(n * k * d);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      const e = expected.length === 1 ? expected[0]! : expected[r]!;
      for (let j = 0; j < d; j++) {
        wantMasked[(i * k + r) * d + j] = e[i * d + j]! * (masks ? masks[r * d + j]! : 1);
      }
    }
  }
  const label = `${config.mode}/${config.masks}`;
  assert.ok(
    maxAbsDiff(got, wantMasked) < TOLERANCE,
    `${label} masked: ${maxAbsDiff(got, wantMasked)}`,
  );
  if (config.mode === "task-specific") {
    assert.deepEqual(embedding.dims, [n, k, d]);
    assert.ok(maxAbsDiff(embedding.data as Float32Array, wantMasked) < TOLERANCE, label);
  } else {
    assert.deepEqual(embedding.dims, [n, d]);
    const diff = maxAbsDiff(embedding.data as Float32Array, expected[0]!);
    assert.ok(diff < TOLERANCE, `${label} embedding: ${diff}`);
  }
  if (config.mode === "csn" && config.masks !== "fixed") {
    assert.ok(masks!.some((m) => m === 0), "some learned mask entries are cut by the ReLU");
  }
  await session.release();
}

const TINY_GRAY = { inChannels: 1, inputSize: 32, width: 4, embedDim: 8 };
const TINY_RGB = { inChannels: 3, inputSize: 40, width: 8, embedDim: 12 };

/** Every kind of model csn trains, at two widths, both channel counts and two input sizes. */
const KINDS: readonly (readonly [ModelConfig, string[]])[] = [
  [{ mode: "csn", masks: "fixed", nConditions: 2, backbone: TINY_GRAY, seed: 1 }, ["char", "font"]],
  [{ mode: "csn", masks: "learned", nConditions: 3, backbone: TINY_RGB, seed: 2 }, ["a", "b", "c"]],
  [{ mode: "csn", masks: "prein", nConditions: 2, backbone: TINY_GRAY, seed: 3 }, ["a", "b"]],
  [{ mode: "standard", masks: "fixed", nConditions: 2, backbone: TINY_GRAY, seed: 4 }, ["a", "b"]],
  [{ mode: "task-specific", masks: "fixed", nConditions: 2, backbone: TINY_RGB, seed: 5 }, [
    "class",
    "heel",
  ]],
];

for (const [config, names] of KINDS) {
  const kind = config.mode === "csn" ? `csn with ${config.masks} masks` : config.mode;
  const channels = config.backbone.inChannels === 3 ? "RGB" : "gray";
  Deno.test(`onnx: ${kind} (${channels}) matches the eval engine in onnxruntime-node`, async () => {
    await selectBackend("auto", quiet);
    await roundTrip(config, names);
  });
}

Deno.test("onnx: a checkpoint whose tensors do not fit its config is refused, naming the tensor", async () => {
  await selectBackend("auto", quiet);
  const config: ModelConfig = {
    mode: "csn",
    masks: "fixed",
    nConditions: 2,
    backbone: TINY_GRAY,
    seed: 1,
  };
  const model = new CsnModel(config);
  const bytes = await encodeCheckpoint(model, null, { epoch: 0, step: 0, rng: "", params: {} });
  model.dispose();
  const { weights } = decodeCheckpoint(bytes, "t.safetensors");
  const source = {
    config,
    conditionNames: ["a", "b"],
    normalisation: NORMALISATION,
    source: "t.safetensors",
  };
  const without = new Map(weights);
  without.delete("layer2.0.downsample.0.weight");
  assert.throws(
    () => encodeCsnOnnx({ ...source, weights: without }),
    /Cannot export "t.safetensors" to ONNX: tensor "layer2.0.downsample.0.weight" is missing/,
  );
  const wider = { ...config, backbone: { ...TINY_GRAY, width: 8 } };
  assert.throws(
    () => encodeCsnOnnx({ ...source, config: wider, weights }),
    /tensor "conv1.weight" is F32 \[4,1,7,7\], expected F32 \[8,1,7,7\]/,
  );
  const extra = new Map(weights).set("nets.1.conv1.weight", weights.get("conv1.weight")!);
  assert.throws(
    () => encodeCsnOnnx({ ...source, weights: extra }),
    /tensors nets.1.conv1.weight are not part of the csn network/,
  );
  assert.throws(
    () => encodeCsnOnnx({ ...source, weights, conditionNames: ["a"] }),
    /1 notion names for 2 conditions/,
  );
});

const CHECKER = `
import json, sys
import onnx
out = []
for path in sys.argv[1:]:
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    dims = lambda v: [d.dim_value or d.dim_param for d in v.type.tensor_type.shape.dim]
    out.append({
        "opset": model.opset_import[0].version,
        "outputs": [dims(o) for o in inferred.graph.output],
    })
print(json.dumps(out))
`;

Deno.test("onnx: the ONNX project's checker (python3-onnx) accepts every model kind", async () => {
  await selectBackend("auto", quiet);
  const dir = await Deno.makeTempDir({ prefix: "csn-onnx-" });
  try {
    const files: string[] = [];
    for (const [i, [config, names]] of KINDS.entries()) {
      const path = join(dir, `model_${i}.onnx`);
      await Deno.writeFile(path, (await exported(config, names)).file);
      files.push(path);
    }
    const run = await new Deno.Command("/usr/bin/python3", {
      args: ["-c", CHECKER, ...files],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, `the ONNX checker refused a model:\n${stderr}`);
    const results = JSON.parse(new TextDecoder().decode(run.stdout));
    assert.equal(results.length, KINDS.length);
    KINDS.forEach(([config], i) => {
      const { embedDim: d } = config.backbone;
      const k = config.nConditions;
      assert.equal(results[i].opset, OPSET);
      const embedding = config.mode === "task-specific" ? ["N", k, d] : ["N", d];
      assert.deepEqual(results[i].outputs, [embedding, ["N", k, d]], config.mode);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
