/// <reference lib="deno.worker" />
/**
 * A Deno worker holding one Replica. Requests: {id, op, args}; replies: {id, ok, result} or
 * {id, ok: false, error}; log lines: {log}. Ops run one at a time, in the order sent.
 */
import { Replica } from "./replica.ts";
import { runReplicaOp } from "./replica_ops.ts";

let replica: Replica | undefined;
let queue = Promise.resolve();

self.onmessage = (event: MessageEvent) => {
  const { id, op, args } = event.data as { id: number; op: string; args: unknown[] };
  queue = queue.then(async () => {
    try {
      if (op === "create") {
        replica = await Replica.create(
          args[0] as Parameters<typeof Replica.create>[0],
          (log) => self.postMessage({ log }),
        );
        self.postMessage({ id, ok: true, result: replica.backend });
        return;
      }
      if (!replica) throw new Error(`replica worker: "${op}" before "create"`);
      const { result, transfer } = await runReplicaOp(replica, op, args);
      self.postMessage({ id, ok: true, result }, { transfer });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      self.postMessage({ id, ok: false, error: message });
    }
  });
};
