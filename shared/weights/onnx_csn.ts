/**
 * csn's embedding network as an ONNX model (opset 15), built from a checkpoint's config and
 * its PyTorch-layout tensors (conv filters OIHW and the Linear weight [out, in], which are
 * ONNX's layouts too), so no tfjs is loaded. Per backbone: Conv, BatchNormalization (eval:
 * running statistics), Relu, MaxPool, the residual Add, GlobalAveragePool, Flatten, Gemm.
 * Then the masks, as a constant the embedding is multiplied by.
 *
 * Input "images": float32 [N, C, S, S] (NCHW), normalised as csn's eval feeds its engine.
 * Outputs:
 * - "embedding": [N, d], the unmasked embedding; task-specific models have one network per
 *   notion, so theirs is [N, notions, d], row c from notion c's network;
 * - "masked": [N, notions, d], each notion's masked embedding (csn: embedding * mask row,
 *   ReLU already applied to learned masks; standard and task-specific models have no masks,
 *   so their rows are the embedding itself).
 */
import type { ModelConfig } from "../model/csn.ts";
import { blockSpecs, BN_EPS, layerChannels } from "../model/resnet_layout.ts";
import type { SafeTensor } from "./dtype.ts";
import { type AttrValue, OnnxGraph, type ValueInfo } from "./onnx_graph.ts";

export const OPSET = 15;
export const INPUT = "images";
export const OUTPUTS = { embedding: "embedding", masked: "masked" } as const;

export interface CsnOnnxSource {
  readonly config: ModelConfig;
  /** The checkpoint's model tensors by PyTorch name (optimiser state left out). */
  readonly weights: ReadonlyMap<string, SafeTensor>;
  /** Notion names, in mask-row order. */
  readonly conditionNames: readonly string[];
  /** What the input images are normalised with, per channel. */
  readonly normalisation: { readonly mean: readonly number[]; readonly std: readonly number[] };
  /** Names the checkpoint in errors and in the model's metadata. */
  readonly source: string;
  /** More metadata entries (run, artefact id). */
  readonly metadata?: Readonly<Record<string, string>>;
  readonly producerVersion?: string;
}

/** The model's input and outputs, with their shapes ("N": the batch, given at run time). */
export function csnOnnxSignature(config: ModelConfig): {
  input: ValueInfo;
  outputs: [ValueInfo, ValueInfo];
} {
  const { inChannels, inputSize, embedDim } = config.backbone;
  const k = config.nConditions;
  return {
    input: { name: INPUT, shape: ["N", inChannels, inputSize, inputSize] },
    outputs: [
      {
        name: OUTPUTS.embedding,
        shape: config.mode === "task-specific" ? ["N", k, embedDim] : ["N", embedDim],
      },
      { name: OUTPUTS.masked, shape: ["N", k, embedDim] },
    ],
  };
}

/** Hands out checkpoint tensors by name, checking dtype and shape; remembers which it used. */
class WeightReader {
  readonly used = new Set<string>();
  constructor(readonly weights: ReadonlyMap<string, SafeTensor>, readonly source: string) {}

  take(name: string, shape: readonly number[]): Float32Array {
    const t = this.weights.get(name);
    if (!t) {
      throw new Error(`Cannot export "${this.source}" to ONNX: tensor "${name}" is missing`);
    }
    if (t.dtype !== "F32" || t.shape.join(",") !== shape.join(",")) {
      throw new RangeError(
        `Cannot export "${this.source}" to ONNX: tensor "${name}" is ${t.dtype} ` +
          `[${t.shape}], expected F32 [${shape}]`,
      );
    }
    this.used.add(name);
    return t.data as Float32Array;
  }

  /** Every tensor must have been used (BatchNorm's step counters aside). */
  checkAllUsed(mode: string): void {
    const unused = [...this.weights.keys()].filter((name) =>
      !this.used.has(name) && !name.endsWith(".num_batches_tracked")
    );
    if (unused.length > 0) {
      throw new Error(
        `Cannot export "${this.source}" to ONNX: tensors ${unused.slice(0, 5).join(", ")} ` +
          `are not part of the ${mode} network its config describes`,
      );
    }
  }
}

/** Adds one backbone (tensor names under `prefix`) reading `input`; returns its embedding. */
function addBackbone(
  g: OnnxGraph,
  w: WeightReader,
  config: ModelConfig,
  prefix: string,
  input: string,
): string {
  const { inChannels, width, embedDim } = config.backbone;
  const param = (name: string, shape: number[]) =>
    g.constant(prefix + name, shape, w.take(prefix + name, shape));
  const convBn = (
    x: string,
    conv: string,
    bn: string,
    geometry: { cin: number; cout: number; k: number; stride: number; pad: number },
    relu: boolean,
  ): string => {
    const { cin, cout, k, stride, pad } = geometry;
    const attrs: Record<string, AttrValue> = {
      kernel_shape: { ints: [k, k] },
      strides: { ints: [stride, stride] },
      pads: { ints: [pad, pad, pad, pad] },
    };
    const h = g.node("Conv", [x, param(conv, [cout, cin, k, k])], prefix + conv + ":out", attrs);
    const stats = ["weight", "bias", "running_mean", "running_var"].map((s) =>
      param(`${bn}.${s}`, [cout])
    );
    const y = g.node("BatchNormalization", [h, ...stats], prefix + bn + ":out", {
      epsilon: { float: BN_EPS },
    });
    return relu ? g.node("Relu", [y], prefix + bn + ":relu") : y;
  };

  let h = convBn(input, "conv1.weight", "bn1", {
    cin: inChannels,
    cout: width,
    k: 7,
    stride: 2,
    pad: 3,
  }, true);
  h = g.node("MaxPool", [h], prefix + "maxpool:out", {
    kernel_shape: { ints: [3, 3] },
    strides: { ints: [2, 2] },
    pads: { ints: [1, 1, 1, 1] },
  });
  let cin = width;
  for (const b of blockSpecs()) {
    const cout = layerChannels(width, b.layer);
    const n = b.name;
    const a = convBn(h, `${n}.conv1.weight`, `${n}.bn1`, {
      cin,
      cout,
      k: 3,
      stride: b.stride,
      pad: 1,
    }, true);
    const out = convBn(a, `${n}.conv2.weight`, `${n}.bn2`, {
      cin: cout,
      cout,
      k: 3,
      stride: 1,
      pad: 1,
    }, false);
    const shortcut = b.downsample
      ? convBn(h, `${n}.downsample.0.weight`, `${n}.downsample.1`, {
        cin,
        cout,
        k: 1,
        stride: b.stride,
        pad: 0,
      }, false)
      : h;
    const sum = g.node("Add", [out, shortcut], `${prefix}${n}:add`);
    h = g.node("Relu", [sum], `${prefix}${n}:out`);
    cin = cout;
  }
  const pooled = g.node("GlobalAveragePool", [h], prefix + "avgpool:out");
  const flat = g.node("Flatten", [pooled], prefix + "flatten:out", { axis: { int: 1 } });
  return g.node(
    "Gemm",
    [flat, param("fc_embed.weight", [embedDim, cin]), param("fc_embed.bias", [embedDim])],
    prefix + "fc_embed:out",
    { transB: { int: 1 } },
  );
}

/** The mask rows the forward pass multiplies by: ReLU'd for learned kinds, ones without. */
function maskRows(source: CsnOnnxSource, w: WeightReader): Float32Array {
  const { mode, masks, nConditions, backbone } = source.config;
  const shape = [nConditions, backbone.embedDim];
  if (mode !== "csn") return new Float32Array(nConditions * backbone.embedDim).fill(1);
  const raw = w.take("masks.weight", shape);
  return masks === "fixed" ? raw.slice() : raw.map((v) => Math.max(0, v));
}

/** The serialised ONNX model of a checkpoint's embedding network with its masks. */
export function encodeCsnOnnx(source: CsnOnnxSource): Uint8Array {
  const { config, conditionNames } = source;
  const { inChannels, inputSize, embedDim } = config.backbone;
  const c = config.nConditions;
  if (conditionNames.length !== c) {
    throw new RangeError(
      `Cannot export "${source.source}" to ONNX: ${conditionNames.length} notion names for ` +
        `${c} conditions`,
    );
  }
  const g = new OnnxGraph();
  const w = new WeightReader(source.weights, source.source);
  const images = g.input(INPUT);
  const axis1 = g.constant("axes:1", [1], BigInt64Array.of(1n));
  let embedding: string;
  let perNotion: string;
  if (config.mode === "task-specific") {
    const rows = Array.from({ length: c }, (_, i) => {
      const e = addBackbone(g, w, config, `nets.${i}.`, images);
      return g.node("Unsqueeze", [e, axis1], `nets.${i}.embedding`);
    });
    embedding = g.node("Concat", rows, OUTPUTS.embedding, { axis: { int: 1 } });
    perNotion = embedding;
  } else {
    embedding = addBackbone(g, w, config, "", images);
    g.node("Identity", [embedding], OUTPUTS.embedding);
    perNotion = g.node("Unsqueeze", [embedding, axis1], "embedding:rows");
  }
  const masks = g.constant("masks", [c, embedDim], maskRows(source, w));
  g.node("Mul", [perNotion, masks], OUTPUTS.masked);
  w.checkAllUsed(config.mode);

  const { mean, std } = source.normalisation;
  const kind = config.mode === "csn" ? `csn, ${config.masks} masks` : config.mode;
  const signature = csnOnnxSignature(config);
  const embeddingShape = signature.outputs[0].shape;
  const doc = `csn embedding network (${kind}) of ${source.source}. Input "${INPUT}": ` +
    `float32 [N, ${inChannels}, ${inputSize}, ${inputSize}] (NCHW): the image's shorter side ` +
    `resized to ${inputSize} and the centre cropped, ` +
    `${inChannels === 3 ? "RGB" : "gray"} scaled to [0, 1], then (x - mean) / std per channel ` +
    `with mean [${mean}] and std [${std}]. Outputs "${OUTPUTS.embedding}" [${embeddingShape}]` +
    `${config.mode === "task-specific" ? " (one row per notion's network)" : ""} and ` +
    `"${OUTPUTS.masked}" [N, ${c}, ${embedDim}], each notion's masked embedding, notions in ` +
    `order: ${conditionNames.join(", ")}. Compare images under a notion by the Euclidean ` +
    `distance of their masked rows.`;
  return g.encode({
    name: "csn",
    inputs: [signature.input],
    outputs: signature.outputs,
    opset: OPSET,
    producer: { name: "csn", version: source.producerVersion ?? "" },
    doc,
    metadata: {
      "csn.mode": config.mode,
      "csn.masks": config.mode === "csn" ? config.masks : "none",
      "csn.notions": JSON.stringify(conditionNames),
      "csn.embed_dim": String(embedDim),
      "csn.input": JSON.stringify({
        layout: "NCHW",
        channels: inChannels,
        size: inputSize,
        resize: "shorter side to size, centre crop",
        scale: "[0, 1]",
        mean,
        std,
      }),
      "csn.model": JSON.stringify(config),
      ...source.metadata,
    },
  });
}
