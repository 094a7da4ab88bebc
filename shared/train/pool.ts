/**
 * Data parallelism over Deno workers: each triplet batch is split into contiguous slices, one
 * per replica; the replicas' mean gradients and BatchNorm statistics are averaged, weighted by
 * slice size, in a fixed order (replica 0, 1, ...), and every replica applies the same update.
 * With `workers: 0` a single replica runs in this thread.
 */
import type { CheckpointMeta } from "../model/checkpoint.ts";
import { probeAutoBackend } from "../engine/probe.ts";
import type { TripletImages } from "../model/csn.ts";
import type { StepStats } from "../model/train_step.ts";
import { Replica, type ReplicaGradients, type ReplicaSetup } from "./replica.ts";
import { runReplicaOp } from "./replica_ops.ts";
import { combineStats, splitBatch, weightedMean } from "./combine.ts";

interface Handle {
  call(op: string, args: unknown[], transfer?: Transferable[]): Promise<unknown>;
  close(): void;
}

class WorkerHandle implements Handle {
  #next = 0;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #worker: Worker;

  constructor(index: number, log: (message: string) => void) {
    this.#worker = new Worker(new URL("./replica_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent) => {
      const data = event.data as {
        id?: number;
        ok?: boolean;
        result?: unknown;
        error?: string;
        log?: string;
      };
      if (data.log !== undefined) return log(`worker ${index}: ${data.log}`);
      const waiter = this.#pending.get(data.id!);
      this.#pending.delete(data.id!);
      if (data.ok) waiter?.resolve(data.result);
      else waiter?.reject(new Error(`worker ${index}: ${data.error}`));
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      const error = new Error(`worker ${index} crashed: ${event.message}`);
      for (const waiter of this.#pending.values()) waiter.reject(error);
      this.#pending.clear();
    };
  }

  call(op: string, args: unknown[], transfer: Transferable[] = []): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, args }, { transfer });
    });
  }

  close(): void {
    this.#worker.terminate();
  }
}

class LocalHandle implements Handle {
  #replica?: Replica;
  constructor(private readonly log: (message: string) => void) {}

  async call(op: string, args: unknown[]): Promise<unknown> {
    if (op === "create") {
      this.#replica = await Replica.create(args[0] as ReplicaSetup, this.log);
      return this.#replica.backend;
    }
    if (!this.#replica) throw new Error(`replica: "${op}" before "create"`);
    return (await runReplicaOp(this.#replica, op, args)).result;
  }

  close(): void {
    this.#replica?.dispose();
  }
}

export class ReplicaPool {
  private constructor(
    private readonly handles: Handle[],
    readonly backend: { name: string; reason: string },
  ) {}

  static async start(
    workers: number,
    setup: ReplicaSetup,
    log: (message: string) => void,
  ): Promise<ReplicaPool> {
    if (setup.backend === "auto" && workers > 0) {
      // Settled once here: probing WebGPU inside each worker could crash the process when the
      // workers were torn down (seen here, on the llvmpipe software adapter).
      const chosen = await probeAutoBackend();
      log(`backend auto -> ${chosen} (probed once for ${workers} worker(s))`);
      setup = { ...setup, backend: chosen };
    }
    const handles: Handle[] = workers === 0
      ? [new LocalHandle(log)]
      : Array.from({ length: workers }, (_, i) => new WorkerHandle(i, log));
    try {
      const backends = await Promise.all(handles.map((h) => h.call("create", [setup])));
      return new ReplicaPool(handles, backends[0] as { name: string; reason: string });
    } catch (error) {
      handles.forEach((h) => h.close());
      throw error;
    }
  }

  get size(): number {
    return this.handles.length;
  }

  /** One optimiser step on `batch` across all replicas. */
  async step(batch: TripletImages, imageSize: number, lr: number): Promise<StepStats> {
    const slices = splitBatch(batch, this.handles.length, imageSize);
    const weights = slices.map((slice) => slice.conditions.length);
    // The slices are copies: hand their buffers over rather than cloning them again.
    const results = await Promise.all(
      slices.map((slice, i) =>
        this.handles[i]!.call("gradients", [slice], [
          slice.anchor.buffer,
          slice.far.buffer,
          slice.close.buffer,
          slice.conditions.buffer,
        ] as ArrayBuffer[])
      ),
    ) as ReplicaGradients[];
    const values = weightedMean(results.map((r) => r.values), weights);
    const buffers = weightedMean(results.map((r) => r.buffers), weights);
    await Promise.all(this.handles.map((h) => h.call("apply", [values, buffers, lr])));
    return combineStats(results.map((r) => r.stats));
  }

  async checkpoint(meta: CheckpointMeta): Promise<Uint8Array> {
    return await this.handles[0]!.call("checkpoint", [meta]) as Uint8Array;
  }

  async masks(): Promise<Float32Array | null> {
    return await this.handles[0]!.call("masks", []) as Float32Array | null;
  }

  /** Embeds `count` images (split across replicas); one [count x d] array per backbone. */
  async embed(images: Float32Array, count: number, imageSize: number): Promise<Float32Array[]> {
    const parts = this.handles.length;
    const per = Math.ceil(count / parts);
    const jobs: Promise<Float32Array[]>[] = [];
    for (let p = 0; p < parts; p++) {
      const start = p * per;
      const end = Math.min(count, start + per);
      if (end <= start) break;
      const slice = images.slice(start * imageSize, end * imageSize);
      jobs.push(
        this.handles[p]!.call("embed", [slice, end - start], [slice.buffer]) as Promise<
          Float32Array[]
        >,
      );
    }
    const results = await Promise.all(jobs);
    return results[0]!.map((_, net) => concat(results.map((r) => r[net]!)));
  }

  close(): void {
    this.handles.forEach((h) => h.close());
  }
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) out.set(a, offset), offset += a.length;
  return out;
}
