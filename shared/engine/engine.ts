/**
 * The engine that training, validation, test and query open: one or more model replicas
 * (workers: 0 runs one in this thread, N runs one per Deno worker) behind typed methods.
 * Data parallelism: each batch is split into contiguous slices, one per replica; their mean
 * gradients and BatchNorm statistics are averaged, weighted by slice size, in a fixed order
 * (replica 0, 1, ...), and every replica applies the same update.
 */
import type { CheckpointMeta } from "../weights/checkpoint.ts";
import type { TripletImages } from "../model/csn.ts";
import { resolveBackend } from "./probe.ts";
import { Replica, type ReplicaApi, type ReplicaSetup } from "./replica.ts";
import type { BackendInfo, ModelSource, TrainingSetup } from "./replica.ts";
import { WorkerReplica } from "./worker_replica.ts";
import { splitBatch, weightedMean } from "./reduction.ts";
import { mergeStats, type StepStats } from "./stats.ts";

export interface EngineOptions {
  /** Deno workers (0: one replica in this thread). */
  readonly workers: number;
  readonly model: ModelSource;
  /** Present for training; evaluation engines only embed. */
  readonly training?: TrainingSetup;
  readonly log: (message: string) => void;
}

/** oneDNN threads per replica: the machine's cores shared out, at least one each. */
export function threadsPerReplica(workers: number, cores = navigator.hardwareConcurrency): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

export class Engine {
  private constructor(
    private readonly replicas: ReplicaApi[],
    readonly backend: BackendInfo,
  ) {}

  static async open(options: EngineOptions): Promise<Engine> {
    const { workers, log } = options;
    let model = options.model;
    if (model.backend === "auto") {
      // Settled once here, as the cache key settled it: probing WebGPU inside each worker
      // could crash the process when the workers were torn down (seen on llvmpipe).
      const chosen = await resolveBackend(model.backend);
      log(`backend auto -> ${chosen} (probed once for ${Math.max(1, workers)} replica(s))`);
      model = { ...model, backend: chosen, autoChosen: true };
    }
    const setup: ReplicaSetup = {
      ...model,
      threads: model.threads ?? threadsPerReplica(workers),
      training: options.training,
    };
    if (workers === 0) {
      const replica = await Replica.create(setup, log);
      return new Engine([replica], replica.backend);
    }
    const started = await Promise.allSettled(
      Array.from({ length: workers }, (_, i) => WorkerReplica.start(i, setup, log)),
    );
    const failed = started.find((s) => s.status === "rejected");
    if (failed) {
      for (const s of started) if (s.status === "fulfilled") s.value.replica.close();
      throw (failed as PromiseRejectedResult).reason;
    }
    const ok = started as PromiseFulfilledResult<Awaited<ReturnType<typeof WorkerReplica.start>>>[];
    return new Engine(ok.map((s) => s.value.replica), ok[0]!.value.backend);
  }

  get size(): number {
    return this.replicas.length;
  }

  /** One optimiser step on `batch` across all replicas. */
  async step(batch: TripletImages, imageSize: number, lr: number): Promise<StepStats> {
    const slices = splitBatch(batch, this.replicas.length, imageSize);
    const weights = slices.map((slice) => slice.conditions.length);
    const results = await Promise.all(slices.map((s, i) => this.replicas[i]!.gradients(s)));
    const values = weightedMean(results.map((r) => r.values), weights);
    const buffers = weightedMean(results.map((r) => r.buffers), weights);
    await Promise.all(this.replicas.map((r) => r.apply(values, buffers, lr)));
    return mergeStats(results.map((r) => r.stats));
  }

  async checkpoint(meta: CheckpointMeta): Promise<Uint8Array> {
    return await this.replicas[0]!.checkpoint(meta);
  }

  async masks(): Promise<Float32Array | null> {
    return await this.replicas[0]!.masks();
  }

  /** Embeds `count` images (split across replicas); one [count x d] array per backbone. */
  async embed(images: Float32Array, count: number, imageSize: number): Promise<Float32Array[]> {
    const parts = this.replicas.length;
    const per = Math.ceil(count / parts);
    const jobs: Promise<Float32Array[]>[] = [];
    for (let p = 0; p < parts; p++) {
      const start = p * per;
      const end = Math.min(count, start + per);
      if (end <= start) break;
      jobs.push(
        this.replicas[p]!.embed(images.slice(start * imageSize, end * imageSize), end - start),
      );
    }
    const results = await Promise.all(jobs);
    return results[0]!.map((_, net) => concat(results.map((r) => r[net]!)));
  }

  close(): void {
    this.replicas.forEach((r) => r.close());
  }
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) out.set(a, offset), offset += a.length;
  return out;
}
