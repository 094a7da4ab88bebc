/**
 * The service on a socket (Deno.serve): bound to 127.0.0.1 unless told otherwise, requests
 * past the concurrency bound queued (503 once the queue is full too), any failure answered
 * and logged without stopping the server, and shutdown draining the requests in flight.
 */
import { createApi, type Service } from "./api.ts";
import { Gate } from "./gate.ts";
import { errorResponse, HttpError } from "./http_error.ts";

export interface ServeOptions {
  readonly host?: string;
  /** 0: any free port (see `addr`). */
  readonly port: number;
  /** Uploads over this many bytes get 413. */
  readonly maxUpload?: number;
  /** Requests handled at once; more wait. */
  readonly concurrency?: number;
  /** Requests that may wait; more get 503. */
  readonly queue?: number;
  /** How long shutdown waits for the requests in flight. */
  readonly drainSeconds?: number;
  readonly log: (message: string) => void;
}

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_MAX_UPLOAD = 10 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 64;
export const DEFAULT_QUEUE = 1024;
export const DEFAULT_DRAIN_SECONDS = 30;

export interface RunningServer {
  readonly addr: Deno.NetAddr;
  readonly origin: string;
  /** Stops accepting, lets the requests in flight finish, then resolves. */
  shutdown(): Promise<void>;
  readonly finished: Promise<void>;
}

export function startServer(service: Service, options: ServeOptions): RunningServer {
  const api = createApi(service, {
    maxUpload: options.maxUpload ?? DEFAULT_MAX_UPLOAD,
    log: options.log,
  });
  const gate = new Gate(options.concurrency ?? DEFAULT_CONCURRENCY, options.queue ?? DEFAULT_QUEUE);
  // Deno's own shutdown cuts off request bodies still arriving: the drain waits for every
  // request in flight first, answering newcomers 503 meanwhile.
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;
  const handler = async (request: Request): Promise<Response> => {
    if (draining) {
      const response = errorResponse(503, "Cannot serve the request: the server is stopping");
      response.headers.set("connection", "close");
      return response;
    }
    inFlight++;
    try {
      return await gate.run(() => api(request));
    } catch (error) {
      if (error instanceof HttpError) return errorResponse(error.status, error.message);
      throw error;
    } finally {
      if (--inFlight === 0) drained?.();
    }
  };
  const server = Deno.serve({
    hostname: options.host ?? DEFAULT_HOST,
    port: options.port,
    onListen: () => {},
    onError: (error) => {
      options.log(`serve: a request failed: ${(error as Error)?.stack ?? error}`);
      return errorResponse(500, `Cannot answer: ${(error as Error)?.message ?? error}`);
    },
  }, handler);
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    addr,
    origin: `http://${host}:${addr.port}`,
    async shutdown() {
      draining = true;
      if (inFlight > 0) {
        const timeout = options.drainSeconds ?? DEFAULT_DRAIN_SECONDS;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          new Promise<void>((resolve) => (drained = resolve)),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout * 1000))),
        ]);
        clearTimeout(timer);
        if (inFlight > 0) options.log(`serve: stopping with ${inFlight} requests unanswered`);
      }
      await server.shutdown();
    },
    finished: server.finished,
  };
}
