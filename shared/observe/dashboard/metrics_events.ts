/**
 * /api/runs/NAME/events: a run's metrics lines as server-sent events. Existing lines first,
 * then new ones as metrics.jsonl grows. Each `record` event carries one parsed line and, as its
 * id, the byte offset after it, so a reconnecting EventSource (Last-Event-ID) resumes exactly.
 * Other events: `problem` (a malformed line, named by number), `reset` (the file shrank or was
 * replaced: drop what you have), `synced` (the backlog is sent).
 */
import { parseMetricsLine } from "../../artefacts/metrics_log.ts";
import { tailLines } from "./tail_lines.ts";

export interface EventStreamOptions {
  /** Where metrics.jsonl is now; undefined ends the stream (the path became refused). */
  locate: () => Promise<string | undefined>;
  /** For messages: the file as users know it (runs/NAME/metrics.jsonl). */
  label: string;
  lastEventId?: string | null;
  pollMs?: number;
  heartbeatMs?: number;
  /** Ends the stream (the server is shutting down). */
  signal?: AbortSignal;
}

export function metricsEventStream(options: EventStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const stop = new AbortController();
  options.signal?.addEventListener("abort", () => stop.abort(), { once: true });
  const from = /^\d+$/.test(options.lastEventId ?? "") ? Number(options.lastEventId) : 0;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (!stop.signal.aborted) controller.enqueue(encoder.encode(text));
      };
      send("retry: 1000\n\n");
      heartbeat = setInterval(() => send(": ping\n\n"), options.heartbeatMs ?? 15_000);
      (async () => {
        for await (
          const event of tailLines(options.locate, {
            from,
            pollMs: options.pollMs,
            signal: stop.signal,
          })
        ) {
          if (event.type === "reset") send("event: reset\ndata: {}\n\n");
          else if (event.type === "synced") {
            send(`event: synced\ndata: ${JSON.stringify({ lines: event.lines })}\n\n`);
          } else if (event.text.trim() !== "") {
            const parsed = parseLine(event.text, event.line, options.label);
            const name = "record" in parsed ? "record" : "problem";
            const data = "record" in parsed ? parsed.record : { message: parsed.problem };
            send(`id: ${event.end}\nevent: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
          }
        }
      })().then(
        () => close(controller),
        (error) => {
          console.error(
            `dashboard: stream of ${options.label} failed: ${(error as Error).message}`,
          );
          controller.error(error);
        },
      );
    },
    cancel() {
      stop.abort();
      clearInterval(heartbeat);
    },
  });

  function close(controller: ReadableStreamDefaultController<Uint8Array>) {
    clearInterval(heartbeat);
    if (!stop.signal.aborted || options.signal?.aborted) {
      try {
        controller.close();
      } catch (error) {
        // Closing a stream the client already cancelled is harmless; anything else is not.
        if (!(error instanceof TypeError)) throw error;
      }
    }
  }
}

function parseLine(
  text: string,
  line: number,
  label: string,
): { record: unknown } | { problem: string } {
  try {
    return { record: parseMetricsLine(text, line, label) };
  } catch (error) {
    return { problem: (error as Error).message };
  }
}
