/**
 * The messages between the engine and a replica worker: each ReplicaApi method by name with
 * its arguments, and which buffers travel (transferred, not copied) each way.
 */
import type { ReplicaApi, ReplicaGradients } from "./replica.ts";

export type ReplicaOp = Exclude<keyof ReplicaApi, "close">;

export type Request =
  | { readonly id: number; readonly op: "create"; readonly args: [unknown] }
  | {
    [K in ReplicaOp]: {
      readonly id: number;
      readonly op: K;
      readonly args: Parameters<ReplicaApi[K]>;
    };
  }[ReplicaOp];

export type Reply =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }
  | { readonly log: string };

/** Buffers a result hands back to the engine. */
export function resultTransfer(op: ReplicaOp, result: unknown): Transferable[] {
  switch (op) {
    case "gradients": {
      const g = result as ReplicaGradients;
      return [g.values.buffer, g.buffers.buffer] as ArrayBuffer[];
    }
    case "checkpoint":
      return [(result as Uint8Array).buffer as ArrayBuffer];
    case "embed":
      return (result as Float32Array[]).map((a) => a.buffer as ArrayBuffer);
    default:
      return [];
  }
}
