/**
 * The three models the paper compares, behind one interface:
 * - csn: one backbone, embeddings multiplied by the triplet's condition mask;
 * - standard: one backbone, no masks (every dimension used for every condition);
 * - task-specific: one backbone per condition; each triplet goes to its condition's network.
 */
import * as tf from "@tensorflow/tfjs";
import { Backbone, type ModelTensor } from "./resnet.ts";
import { type MaskKind, Masks } from "./masks.ts";
import { type BackboneConfig, type Mode, MODES } from "./choices.ts";

export interface ModelConfig {
  readonly mode: Mode;
  /** Only used in csn mode. */
  readonly masks: MaskKind;
  readonly nConditions: number;
  readonly backbone: BackboneConfig;
  /** Any safe integer (0 included): draws the initial weights, per tensor name (init.ts). */
  readonly seed: number;
}

/** Host-side triplets: images NHWC [n, size, size, channels], already normalised. */
export interface TripletImages {
  readonly anchor: Float32Array;
  readonly far: Float32Array;
  readonly close: Float32Array;
  /** Condition id of each triplet, 0 <= c < nConditions. */
  readonly conditions: Int32Array;
}

/** Unmasked embeddings [n, d] of each image set, and the mask rows [n, d] (null: no masks). */
export interface TripletEmbeddings {
  readonly anchor: tf.Tensor2D;
  readonly far: tf.Tensor2D;
  readonly close: tf.Tensor2D;
  readonly masks: tf.Tensor2D | null;
  /** Condition of each output row; task-specific mode regroups triplets by condition. */
  readonly conditions: Int32Array;
}

export interface ForwardOptions {
  readonly training: boolean;
  /** One set of BatchNorm statistics over anchor, far and close together. Default: statistics
   * per image set, as the reference's three passes give (computed in one pass). */
  readonly batched?: boolean;
}

export class CsnModel {
  readonly backbones: readonly Backbone[];
  readonly masks: Masks | null;

  constructor(readonly config: ModelConfig) {
    const { mode, nConditions, backbone, seed } = config;
    if (!MODES.includes(mode)) {
      throw new TypeError(
        `Cannot build the model: unknown mode "${mode}", expected one of ${MODES.join(", ")}`,
      );
    }
    if (!Number.isInteger(nConditions) || nConditions < 1) {
      throw new RangeError(
        `Cannot build the model: nConditions is ${nConditions}, expected a positive integer`,
      );
    }
    const nets = mode === "task-specific" ? nConditions : 1;
    // One seed for all: each tensor's stream is derived from its name ("nets.<i>." prefixes).
    this.backbones = Array.from(
      { length: nets },
      (_, i) => new Backbone(backbone, nets > 1 ? `nets.${i}.` : "", seed),
    );
    this.masks = mode === "csn"
      ? new Masks(config.masks, nConditions, backbone.embedDim, seed)
      : null;
  }

  /** Every tensor in a fixed order: backbones (torchvision order), then masks. */
  get tensors(): ModelTensor[] {
    const all = this.backbones.flatMap((b) => b.tensors);
    if (this.masks) all.push(this.masks.tensor);
    return all;
  }

  /** The tensors the optimiser updates, in the fixed order used for flat gradients. */
  get trainable(): ModelTensor[] {
    return this.tensors.filter((t) => t.trainable);
  }

  /** BatchNorm running statistics, in a fixed order (to keep data-parallel workers in sync). */
  get buffers(): ModelTensor[] {
    return this.backbones.flatMap((b) => b.tensors.filter((t) => !t.trainable));
  }

  get imageSize(): number {
    const c = this.config.backbone;
    return c.inputSize * c.inputSize * c.inChannels;
  }

  /** Number of triplets in `batch`, after checking every array's length. */
  checkBatch(batch: TripletImages): number {
    const n = batch.conditions.length;
    for (const key of ["anchor", "far", "close"] as const) {
      if (batch[key].length !== n * this.imageSize) {
        const b = this.config.backbone;
        throw new RangeError(
          `Cannot read the triplet batch: "${key}" has ${
            batch[key].length
          } values, expected ${n} images of ` +
            `${b.inputSize}x${b.inputSize}x${b.inChannels} = ${n * this.imageSize}`,
        );
      }
    }
    for (const c of batch.conditions) {
      if (!Number.isInteger(c) || c < 0 || c >= this.config.nConditions) {
        throw new RangeError(
          `Cannot read the triplet batch: condition ${c} is out of range, expected 0..${
            this.config.nConditions - 1
          }`,
        );
      }
    }
    return n;
  }

  #images(data: Float32Array, n: number): tf.Tensor4D {
    const { inputSize: s, inChannels: c } = this.config.backbone;
    return tf.tensor4d(data, [n, s, s, c]);
  }

  /** One backbone pass over the three image sets; unless batched, every BatchNorm keeps
   * statistics per set, so this is the reference's three passes in one. */
  #embedSets(net: Backbone, batch: TripletImages, n: number, o: ForwardOptions): tf.Tensor2D[] {
    const joined = new Float32Array(3 * n * this.imageSize);
    [batch.anchor, batch.far, batch.close].forEach((d, i) => joined.set(d, i * n * this.imageSize));
    const sets = o.batched ? 1 : 3;
    return tf.split(net.forward(this.#images(joined, 3 * n), o.training, sets), 3, 0);
  }

  /** Embeds a triplet batch. Call inside tf.tidy / tf.variableGrads. */
  forward(batch: TripletImages, options: ForwardOptions): TripletEmbeddings {
    const n = this.checkBatch(batch);
    if (this.backbones.length === 1) {
      const [anchor, far, close] = this.#embedSets(this.backbones[0]!, batch, n, options);
      const masks = this.masks ? this.masks.rows(batch.conditions) : null;
      return { anchor: anchor!, far: far!, close: close!, masks, conditions: batch.conditions };
    }
    // task-specific: route each condition's triplets through its own network.
    const parts: tf.Tensor2D[][] = [[], [], []];
    const order: number[] = [];
    this.backbones.forEach((net, c) => {
      const idx = [...batch.conditions.keys()].filter((i) => batch.conditions[i] === c);
      if (idx.length === 0) return;
      const sub = subset(batch, idx, this.imageSize);
      this.#embedSets(net, sub, idx.length, options).forEach((e, k) => parts[k]!.push(e));
      for (const _ of idx) order.push(c);
    });
    const [anchor, far, close] = parts.map((p) => p.length === 1 ? p[0]! : tf.concat(p, 0));
    return {
      anchor: anchor!,
      far: far!,
      close: close!,
      masks: null,
      conditions: Int32Array.from(order),
    };
  }

  /** Embeddings [n, d] of `count` images by backbone `net` (eval mode), masked by `condition`'s
   * mask when given and the model has masks. Call inside tf.tidy. */
  embed(images: Float32Array, count: number, net = 0, condition?: number): tf.Tensor2D {
    const backbone = this.backbones[net];
    if (!backbone) {
      throw new RangeError(
        `Cannot embed with backbone ${net}: the model has ${this.backbones.length}`,
      );
    }
    const e = backbone.forward(this.#images(images, count), false);
    if (condition === undefined || !this.masks) return e;
    return tf.mul(e, this.masks.rows([condition]));
  }

  dispose(): void {
    for (const b of this.backbones) b.dispose();
    this.masks?.dispose();
  }
}

/** The triplets at `idx`, copied into new arrays. */
export function subset(
  batch: TripletImages,
  idx: readonly number[],
  imageSize: number,
): TripletImages {
  const pick = (src: Float32Array) => {
    const out = new Float32Array(idx.length * imageSize);
    idx.forEach((i, j) => out.set(src.subarray(i * imageSize, (i + 1) * imageSize), j * imageSize));
    return out;
  };
  return {
    anchor: pick(batch.anchor),
    far: pick(batch.far),
    close: pick(batch.close),
    conditions: Int32Array.from(idx, (i) => batch.conditions[i]!),
  };
}
