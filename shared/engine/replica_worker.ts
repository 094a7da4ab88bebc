/// <reference lib="deno.worker" />
/**
 * A Deno worker holding one Replica (worker_protocol.ts). Requests run one at a time, in the
 * order sent; log lines travel as {log}.
 */
import { Replica, type ReplicaSetup } from "./replica.ts";
import { type Reply, type Request, resultTransfer } from "./worker_protocol.ts";

let replica: Replica | undefined;
let queue = Promise.resolve();

function reply(message: Reply, transfer: Transferable[] = []): void {
  self.postMessage(message, { transfer });
}

self.onmessage = (event: MessageEvent) => {
  const request = event.data as Request;
  queue = queue.then(async () => {
    try {
      if (request.op === "create") {
        replica = await Replica.create(request.args[0] as ReplicaSetup, (log) => reply({ log }));
        return reply({ id: request.id, ok: true, result: replica.backend });
      }
      if (!replica) throw new Error(`Cannot run "${request.op}": the replica was not created`);
      const method = replica[request.op] as (...args: unknown[]) => Promise<unknown>;
      const result = await method.apply(replica, request.args);
      reply({ id: request.id, ok: true, result }, resultTransfer(request.op, result));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      reply({ id: request.id, ok: false, error: message });
    }
  });
};
