/**
 * One model replica: its own tfjs backend, model and Adam state. Data-parallel training runs
 * one per Deno worker; every replica applies the same averaged gradients, so all hold the
 * same weights. The same class runs in-process when workers = 0.
 */
import * as tf from "@tensorflow/tfjs";
import { type BackendChoice } from "../engine/choices.ts";
import { selectBackend } from "../engine/backend.ts";
import { CsnModel, type ModelConfig, type TripletImages } from "../model/csn.ts";
import {
  type CheckpointMeta,
  decodeCheckpoint,
  encodeCheckpoint,
  restoreOptimiser,
} from "../model/checkpoint.ts";
import type { LossWeights } from "../model/loss.ts";
import { Adam } from "../model/optim.ts";
import type { SafeTensor } from "../model/safetensors.ts";
import { importState } from "../model/state_dict.ts";
import {
  computeGradients,
  readBuffers,
  type StepStats,
  writeBuffers,
} from "../model/train_step.ts";

export interface ReplicaSetup {
  readonly config: ModelConfig;
  readonly backend: BackendChoice;
  readonly microBatch: number;
  readonly batched: boolean;
  readonly loss: LossWeights;
  /** Checkpoint bytes to resume from (weights, optimiser, counters). */
  readonly resume?: Uint8Array;
  /** Pretrained tensors copied by name on a fresh start (torchvision naming). */
  readonly pretrained?: ReadonlyMap<string, SafeTensor>;
}

export interface ReplicaGradients {
  readonly values: Float32Array;
  readonly buffers: Float32Array;
  readonly stats: StepStats;
}

export class Replica {
  private constructor(
    readonly model: CsnModel,
    readonly adam: Adam,
    readonly setup: ReplicaSetup,
    readonly backend: { name: string; reason: string },
  ) {}

  static async create(setup: ReplicaSetup, log: (message: string) => void): Promise<Replica> {
    const backend = await selectBackend(setup.backend, log);
    const model = new CsnModel(setup.config);
    const adam = new Adam(model.trainable);
    if (setup.resume) {
      const checkpoint = decodeCheckpoint(setup.resume, "resume checkpoint");
      importState(model, checkpoint.weights, { strict: true, source: "resume checkpoint" });
      // Exported checkpoints may carry weights only; evaluation needs no optimiser state.
      if (checkpoint.optimiser.size > 0) restoreOptimiser(adam, checkpoint);
    } else if (setup.pretrained) {
      const report = importState(model, setup.pretrained, { strict: false, source: "pretrained" });
      log(
        `pretrained: copied ${report.loaded.length} tensors, kept ${report.missing.length} ` +
          `as initialised, skipped ${report.skipped.length}`,
      );
    }
    return new Replica(model, adam, setup, backend);
  }

  async gradients(batch: TripletImages): Promise<ReplicaGradients> {
    const { values, stats } = await computeGradients(this.model, batch, {
      microBatch: this.setup.microBatch,
      batched: this.setup.batched,
      loss: this.setup.loss,
    });
    return { values, stats, buffers: await readBuffers(this.model) };
  }

  apply(values: Float32Array, buffers: Float32Array, lr: number): void {
    this.adam.apply(values, lr);
    writeBuffers(this.model, buffers);
  }

  async checkpoint(meta: CheckpointMeta): Promise<Uint8Array> {
    return await encodeCheckpoint(this.model, this.adam, meta);
  }

  /** Mask rows as used in the forward pass (conditions x d), or null without masks. */
  async masks(): Promise<Float32Array | null> {
    return await this.model.masks?.values() ?? null;
  }

  /** Unmasked eval-mode embeddings of `count` images, one array per backbone. */
  async embed(images: Float32Array, count: number): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let net = 0; net < this.model.backbones.length; net++) {
      const e = tf.tidy(() => this.model.embed(images, count, net));
      out.push(await e.data() as Float32Array);
      e.dispose();
    }
    return out;
  }

  dispose(): void {
    this.adam.dispose();
    this.model.dispose();
  }
}
