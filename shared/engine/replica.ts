/**
 * One model replica: its own tfjs backend, model and (when training) Adam state. Data-parallel
 * training runs one per Deno worker; every replica applies the same averaged gradients, so all
 * hold the same weights. With `workers: 0` the engine calls a Replica directly, no messages.
 */
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "./backend.ts";
import { type BackendChoice, type ConcreteBackend, NATIVE } from "./choices.ts";
import { nativeContext } from "./native/context.ts";
import { setConvPrecision } from "./native/conv_precision.ts";
import { checkPrecision, type Precision } from "./precision.ts";
import { CsnModel, type ModelConfig, type TripletImages } from "../model/csn.ts";
import {
  type CheckpointMeta,
  decodeCheckpoint,
  encodeCheckpoint,
  restoreOptimiser,
} from "../weights/checkpoint.ts";
import type { LossWeights } from "../model/loss.ts";
import { Adam } from "../model/optim.ts";
import type { SafeTensor } from "../weights/dtype.ts";
import { importState } from "../weights/state_dict.ts";
import { computeGradients, readBuffers, writeBuffers } from "./step.ts";
import type { StepStats } from "./stats.ts";

/** What the model is and where its weights come from. */
export interface ModelSource {
  readonly config: ModelConfig;
  readonly backend: BackendChoice;
  /** `backend` was settled from "auto" by a probe: logs and records say auto, not requested. */
  readonly autoChosen?: boolean;
  /** Native backend: oneDNN threads for this replica (default: all it may use). */
  readonly threads?: number;
  /** Checkpoint bytes to start from (weights; optimiser and counters when training). */
  readonly checkpoint?: Uint8Array;
  /** Pretrained tensors copied by name on a fresh start (torchvision naming). */
  readonly pretrained?: ReadonlyMap<string, SafeTensor>;
}

/** How a training replica computes gradients; evaluation replicas have none. */
export interface TrainingSetup {
  readonly microBatch: number;
  readonly batched: boolean;
  readonly loss: LossWeights;
  /** bf16: convolutions in bf16 with fp32 weights, statistics and loss (default fp32). */
  readonly precision?: Precision;
}

export interface ReplicaSetup extends ModelSource {
  readonly training?: TrainingSetup;
}

export interface ReplicaGradients {
  readonly values: Float32Array;
  readonly buffers: Float32Array;
  readonly stats: StepStats;
}

export interface BackendInfo {
  readonly name: ConcreteBackend;
  readonly reason: string;
}

/** What a replica answers, in this thread or in a worker. */
export interface ReplicaApi {
  /** Mean gradients and BatchNorm statistics of one slice of a batch. */
  gradients(batch: TripletImages): Promise<ReplicaGradients>;
  /** Applies the (averaged) gradients with Adam and sets the (averaged) statistics. */
  apply(values: Float32Array, buffers: Float32Array, lr: number): Promise<void>;
  checkpoint(meta: CheckpointMeta): Promise<Uint8Array>;
  /** Mask rows as used in the forward pass (conditions x d), or null without masks. */
  masks(): Promise<Float32Array | null>;
  /** Unmasked eval-mode embeddings of `count` images, one array per backbone. */
  embed(images: Float32Array, count: number): Promise<Float32Array[]>;
  close(): void;
}

export class Replica implements ReplicaApi {
  /** The running statistics gradients() last read (a copy: the result may be transferred). */
  #read: Float32Array | null = null;

  private constructor(
    readonly model: CsnModel,
    readonly adam: Adam | null,
    readonly training: TrainingSetup | undefined,
    readonly backend: BackendInfo,
  ) {}

  static async create(setup: ReplicaSetup, log: (message: string) => void): Promise<Replica> {
    const backend = await selectBackend(setup.backend, log, setup.autoChosen);
    if (backend.name === NATIVE && setup.threads) nativeContext().dnnl.setThreads(setup.threads);
    const precision = setup.training?.precision ?? "fp32";
    if (backend.name === NATIVE) setConvPrecision(nativeContext().dnnl, precision);
    else checkPrecision(precision, backend.name);
    const model = new CsnModel(setup.config);
    const adam = setup.training ? new Adam(model.trainable) : null;
    if (setup.checkpoint) {
      const checkpoint = decodeCheckpoint(setup.checkpoint, "resume checkpoint");
      importState(model, checkpoint.weights, { strict: true, source: "resume checkpoint" });
      // Exported checkpoints may carry weights only; evaluation needs no optimiser state.
      if (adam && checkpoint.optimiser.size > 0) restoreOptimiser(adam, checkpoint);
    } else if (setup.pretrained) {
      const report = importState(model, setup.pretrained, { strict: false, source: "pretrained" });
      log(
        `pretrained: copied ${report.loaded.length} tensors, kept ${report.missing.length} ` +
          `as initialised, skipped ${report.skipped.length}`,
      );
    }
    return new Replica(model, adam, setup.training, backend);
  }

  async gradients(batch: TripletImages): Promise<ReplicaGradients> {
    if (!this.training) throw new Error("Cannot compute gradients: this replica only evaluates");
    const { values, stats } = await computeGradients(this.model, batch, this.training);
    const buffers = await readBuffers(this.model);
    this.#read = buffers.slice();
    return { values, stats, buffers };
  }

  apply(values: Float32Array, buffers: Float32Array, lr: number): Promise<void> {
    if (!this.adam) throw new Error("Cannot apply gradients: this replica only evaluates");
    this.adam.apply(values, lr);
    // One replica gets back the statistics it read: writing them again would change no bit.
    if (!this.#read || !sameBits(this.#read, buffers)) writeBuffers(this.model, buffers);
    this.#read = null;
    return Promise.resolve();
  }

  async checkpoint(meta: CheckpointMeta): Promise<Uint8Array> {
    return await encodeCheckpoint(this.model, this.adam, meta);
  }

  async masks(): Promise<Float32Array | null> {
    return await this.model.masks?.values() ?? null;
  }

  async embed(images: Float32Array, count: number): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let net = 0; net < this.model.backbones.length; net++) {
      const e = tf.tidy(() => this.model.embed(images, count, net));
      out.push(await e.data() as Float32Array);
      e.dispose();
    }
    return out;
  }

  close(): void {
    this.adam?.dispose();
    this.model.dispose();
  }
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
