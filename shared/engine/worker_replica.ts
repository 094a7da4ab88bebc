/** A Replica in a Deno worker, behind the same typed ReplicaApi as one in this thread. */
import type { CheckpointMeta } from "../weights/checkpoint.ts";
import type { TripletImages } from "../model/csn.ts";
import type { BackendInfo, ReplicaApi, ReplicaGradients, ReplicaSetup } from "./replica.ts";
import type { Reply, Request } from "./worker_protocol.ts";

type Waiter = { op: string; resolve: (v: unknown) => void; reject: (e: Error) => void };

/** Distributes Request over its union, so `args` stays typed per op. */
type RequestOf<R> = R extends Request ? Omit<R, "id"> : never;

export class WorkerReplica implements ReplicaApi {
  #next = 0;
  readonly #pending = new Map<number, Waiter>();
  readonly #worker: Worker;

  private constructor(readonly index: number, log: (message: string) => void) {
    this.#worker = new Worker(new URL("./replica_worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (event: MessageEvent) => {
      const data = event.data as Reply;
      if ("log" in data) return log(`worker ${index}: ${data.log}`);
      const waiter = this.#pending.get(data.id);
      this.#pending.delete(data.id);
      if (!waiter) return;
      if (data.ok) waiter.resolve(data.result);
      else waiter.reject(new Error(`Cannot run "${waiter.op}" in worker ${index}: ${data.error}`));
    };
    this.#worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#rejectAll(`the worker crashed: ${event.message}`);
    };
  }

  /** Starts the worker and builds its replica; resolves to the backend it chose. */
  static async start(
    index: number,
    setup: ReplicaSetup,
    log: (message: string) => void,
  ): Promise<{ replica: WorkerReplica; backend: BackendInfo }> {
    const replica = new WorkerReplica(index, log);
    try {
      const backend = await replica.#call({ op: "create", args: [setup] }) as BackendInfo;
      return { replica, backend };
    } catch (error) {
      replica.close();
      throw error;
    }
  }

  #call(request: RequestOf<Request>, transfer: Transferable[] = []): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { op: request.op, resolve, reject });
      this.#worker.postMessage({ ...request, id }, { transfer });
    });
  }

  /** The slice's buffers are handed over: the caller must not reuse them. */
  async gradients(batch: TripletImages): Promise<ReplicaGradients> {
    const transfer = [batch.anchor, batch.far, batch.close, batch.conditions]
      .map((a) => a.buffer as ArrayBuffer);
    return await this.#call({ op: "gradients", args: [batch] }, transfer) as ReplicaGradients;
  }

  async apply(values: Float32Array, buffers: Float32Array, lr: number): Promise<void> {
    await this.#call({ op: "apply", args: [values, buffers, lr] });
  }

  async checkpoint(meta: CheckpointMeta): Promise<Uint8Array> {
    return await this.#call({ op: "checkpoint", args: [meta] }) as Uint8Array;
  }

  async masks(): Promise<Float32Array | null> {
    return await this.#call({ op: "masks", args: [] }) as Float32Array | null;
  }

  /** `images` is handed over. */
  async embed(images: Float32Array, count: number): Promise<Float32Array[]> {
    return await this.#call({ op: "embed", args: [images, count] }, [
      images.buffer as ArrayBuffer,
    ]) as Float32Array[];
  }

  close(): void {
    this.#worker.terminate();
    this.#rejectAll("the worker was closed");
  }

  #rejectAll(why: string): void {
    for (const { op, reject } of this.#pending.values()) {
      reject(new Error(`Cannot run "${op}" in worker ${this.index}: ${why}`));
    }
    this.#pending.clear();
  }
}
