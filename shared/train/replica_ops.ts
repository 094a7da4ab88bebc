/** The operations a replica answers, shared by the worker and the in-process handle. */
import type { CheckpointMeta } from "../model/checkpoint.ts";
import type { TripletImages } from "../model/csn.ts";
import type { Replica } from "./replica.ts";

export async function runReplicaOp(
  replica: Replica,
  op: string,
  args: unknown[],
): Promise<{ result: unknown; transfer: Transferable[] }> {
  switch (op) {
    case "gradients": {
      const result = await replica.gradients(args[0] as TripletImages);
      return { result, transfer: [result.values.buffer, result.buffers.buffer] as ArrayBuffer[] };
    }
    case "apply":
      replica.apply(args[0] as Float32Array, args[1] as Float32Array, args[2] as number);
      return { result: null, transfer: [] };
    case "checkpoint": {
      const bytes = await replica.checkpoint(args[0] as CheckpointMeta);
      return { result: bytes, transfer: [bytes.buffer as ArrayBuffer] };
    }
    case "masks":
      return { result: await replica.masks(), transfer: [] };
    case "embed": {
      const result = await replica.embed(args[0] as Float32Array, args[1] as number);
      return { result, transfer: result.map((a) => a.buffer as ArrayBuffer) };
    }
    case "dispose":
      replica.dispose();
      return { result: null, transfer: [] };
    default:
      throw new TypeError(`Unknown replica op "${op}"`);
  }
}
