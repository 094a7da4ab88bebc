/**
 * The truncated ResNet-18 of the CSN reference: conv1 7x7/2, BN, ReLU, max-pool 3x3/2,
 * layer1..layer3 of two BasicBlocks each, global average pool, Linear "fc_embed".
 *
 * Weights are plain tf.Variables under torchvision names. Conv filters live in tfjs HWIO and
 * the Linear weight as [in, out]; state_dict.ts converts to PyTorch layouts at the edges.
 */
import * as tf from "@tensorflow/tfjs";
import { netOps } from "./net_ops.ts";
import { imagesPerSet } from "./batch_norm.ts";
import { seededNormal, seededUniform } from "./init.ts";
import type { BackboneConfig } from "./choices.ts";
import { type BlockSpec, blockSpecs, BN_EPS, layerChannels } from "./resnet_layout.ts";

/** PyTorch BatchNorm2d defaults. */
export { BN_EPS };
export const BN_MOMENTUM = 0.1;

/** How a tensor maps to its PyTorch layout: conv HWIO<->OIHW, linear [in,out]<->[out,in]. */
export type Layout = "conv" | "linear" | "plain";

export interface ModelTensor {
  /** torchvision-style name, with the owner's prefix (e.g. "nets.2.") when there is one. */
  readonly name: string;
  readonly variable: tf.Variable;
  readonly layout: Layout;
  /** false for BatchNorm running statistics and fixed masks. */
  readonly trainable: boolean;
}

export function validateBackboneConfig(c: BackboneConfig): void {
  for (const key of ["inChannels", "inputSize", "width", "embedDim"] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) {
      throw new RangeError(
        `Cannot build the backbone: ${key} is ${c[key]}, expected a positive integer`,
      );
    }
  }
  // conv1 /2, max-pool /2, layer2 /2, layer3 /2: the last map must keep at least one pixel.
  if (c.inputSize < 16) {
    throw new RangeError(
      `Cannot build the backbone: inputSize is ${c.inputSize}, expected at least 16`,
    );
  }
}

export class Backbone {
  readonly tensors: ModelTensor[] = [];
  /** BatchNorm name -> num_batches_tracked (exported as PyTorch's I64 buffer). */
  readonly batchesTracked = new Map<string, number>();
  readonly #byName = new Map<string, tf.Variable>();
  readonly #blocks = blockSpecs();

  /** Initial values are drawn per tensor from `seed` and the tensor's prefixed name (init.ts),
   * so every seed, 0 included, reproduces, and backbones with other prefixes differ. */
  constructor(readonly config: BackboneConfig, readonly prefix: string, seed: number) {
    validateBackboneConfig(config);
    const w = config.width;
    const conv = (name: string, k: number, cin: number, cout: number) => {
      const std = Math.sqrt(2 / (k * k * cout)); // the reference's init: n = k*k*out_channels
      this.#add(name, seededNormal([k, k, cin, cout], 0, std, seed, prefix + name), "conv", true);
    };
    const bn = (name: string, c: number) => {
      this.#add(`${name}.weight`, tf.ones([c]), "plain", true);
      this.#add(`${name}.bias`, tf.zeros([c]), "plain", true);
      this.#add(`${name}.running_mean`, tf.zeros([c]), "plain", false);
      this.#add(`${name}.running_var`, tf.ones([c]), "plain", false);
      this.batchesTracked.set(this.prefix + name, 0);
    };
    conv("conv1.weight", 7, config.inChannels, w);
    bn("bn1", w);
    let inC = w;
    for (const b of this.#blocks) {
      const outC = layerChannels(w, b.layer);
      conv(`${b.name}.conv1.weight`, 3, inC, outC);
      bn(`${b.name}.bn1`, outC);
      conv(`${b.name}.conv2.weight`, 3, outC, outC);
      bn(`${b.name}.bn2`, outC);
      if (b.downsample) {
        conv(`${b.name}.downsample.0.weight`, 1, inC, outC);
        bn(`${b.name}.downsample.1`, outC);
      }
      inC = outC;
    }
    // PyTorch's nn.Linear default: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
    const bound = 1 / Math.sqrt(inC);
    const uniform = (name: string, shape: number[]) =>
      seededUniform(shape, -bound, bound, seed, prefix + name);
    this.#add(
      "fc_embed.weight",
      uniform("fc_embed.weight", [inC, config.embedDim]),
      "linear",
      true,
    );
    this.#add("fc_embed.bias", uniform("fc_embed.bias", [config.embedDim]), "plain", true);
  }

  #add(name: string, init: tf.Tensor, layout: Layout, trainable: boolean): void {
    const variable = tf.variable(init, trainable);
    init.dispose();
    this.tensors.push({ name: this.prefix + name, variable, layout, trainable });
    this.#byName.set(name, variable);
  }

  #v(name: string): tf.Variable {
    const v = this.#byName.get(name);
    if (!v) {
      throw new Error(`Cannot find backbone tensor "${name}": the backbone has none of that name`);
    }
    return v;
  }

  #bnParams(name: string) {
    return {
      gamma: this.#v(`${name}.weight`) as tf.Tensor1D,
      beta: this.#v(`${name}.bias`) as tf.Tensor1D,
      runningMean: this.#v(`${name}.running_mean`) as tf.Tensor1D,
      runningVar: this.#v(`${name}.running_var`) as tf.Tensor1D,
    };
  }

  /** conv -> BatchNorm (-> ReLU). Training uses batch statistics (per image set) and updates
   * the running ones as PyTorch does (unbiased variance, momentum), once per set; evaluation
   * uses the running ones, and may add `join.residual` before the ReLU. */
  #convBn(
    x: tf.Tensor4D,
    conv: string,
    bn: string,
    geometry: { stride: number; pad: number; inputGrad?: boolean },
    relu: boolean,
    training: boolean,
    sets: number,
    join: { residual?: tf.Tensor4D } = {},
  ): tf.Tensor4D {
    const ops = netOps();
    const w = this.#v(conv) as tf.Tensor4D;
    const p = this.#bnParams(bn);
    if (!training) return ops.convBnEval(x, w, p, BN_EPS, geometry, relu, join.residual);
    if (join.residual) {
      throw new Error(
        `Cannot train ${this.prefix}${conv} with the residual joined inside: training adds it ` +
          "after the batch norm (addRelu)",
      );
    }
    const h = ops.conv(x, w, geometry);
    const [n, height, width] = h.shape;
    const count = (n / sets) * height * width;
    if (count < 2) {
      throw new RangeError(
        `Cannot train BatchNorm ${this.prefix}${bn}: it needs more than one value ` +
          `per channel and image set, got input shape [${h.shape}] in ${sets} set(s)`,
      );
    }
    const running = {
      mean: p.runningMean as unknown as tf.Variable,
      variance: p.runningVar as unknown as tf.Variable,
      momentum: BN_MOMENTUM,
    };
    const y = ops.batchNorm(h, p.gamma, p.beta, BN_EPS, relu, running, sets);
    const key = this.prefix + bn;
    this.batchesTracked.set(key, (this.batchesTracked.get(key) ?? 0) + sets);
    return y;
  }

  #block(x: tf.Tensor4D, b: BlockSpec, training: boolean, sets: number): tf.Tensor4D {
    const n = b.name;
    const convBn = (
      input: tf.Tensor4D,
      [conv, bn]: [string, string],
      geometry: { stride: number; pad: number },
      relu: boolean,
      residual?: tf.Tensor4D,
    ) =>
      this.#convBn(input, `${n}.${conv}.weight`, `${n}.${bn}`, geometry, relu, training, sets, {
        residual,
      });
    const out = convBn(x, ["conv1", "bn1"], { stride: b.stride, pad: 1 }, true);
    const shortcut = () =>
      b.downsample
        ? convBn(x, ["downsample.0", "downsample.1"], { stride: b.stride, pad: 0 }, false)
        : x;
    // Evaluation: the residual joins inside the second convolution's call, so a backend that
    // fuses it (native: a sum post-op) runs the block as two or three calls.
    if (!training) return convBn(out, ["conv2", "bn2"], { stride: 1, pad: 1 }, true, shortcut());
    const out2 = convBn(out, ["conv2", "bn2"], { stride: 1, pad: 1 }, false);
    return netOps().addRelu(out2, shortcut());
  }

  /** x: [N, H, W, inChannels] normalised images -> [N, embedDim] (unmasked) embeddings. In
   * training, `sets` equal image sets one after another (anchor, far, close) each get their
   * own BatchNorm statistics: the same as one pass per set, in one pass. */
  forward(x: tf.Tensor4D, training: boolean, sets = 1): tf.Tensor2D {
    const c = this.config.inChannels;
    if (x.shape[3] !== c) {
      throw new RangeError(
        `Cannot run the backbone: the input has ${x.shape[3]} channels, expected ${c}`,
      );
    }
    imagesPerSet(x.shape[0], sets);
    const ops = netOps();
    const stem = { stride: 2, pad: 3, inputGrad: false };
    let h = this.#convBn(x, "conv1.weight", "bn1", stem, true, training, sets);
    h = ops.maxPool(h, 3, 2, 1, training);
    for (const b of this.#blocks) h = this.#block(h, b, training, sets);
    const pooled = ops.globalAvgPool(h, training); // global: 7x7 at 112x112 as the reference
    return tf.add(tf.matMul(pooled, this.#v("fc_embed.weight")), this.#v("fc_embed.bias"));
  }

  dispose(): void {
    for (const t of this.tensors) t.variable.dispose();
  }
}

/** Number of trainable scalars (BatchNorm running statistics excluded). */
export function countParameters(tensors: readonly ModelTensor[]): number {
  return tensors.filter((t) => t.trainable).reduce((s, t) => s + t.variable.size, 0);
}
