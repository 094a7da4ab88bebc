/**
 * Starts the live dashboard:
 *   deno run -A shared/observe/dashboard_main.ts [--port 8080] [--host 127.0.0.1] [--runs runs]
 * It listens on localhost unless --host says otherwise; Ctrl-C stops it.
 */
import { parseArgs } from "node:util";
import { serveDashboard } from "./dashboard/server.ts";

const USAGE = "Usage: dashboard [--port 8080] [--host 127.0.0.1] [--runs runs]";

export interface DashboardArgs {
  port: number;
  host: string;
  runs: string;
}

export function parseDashboardArgs(argv: string[]): DashboardArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string", default: "8080" },
        host: { type: "string", default: "127.0.0.1" },
        runs: { type: "string", default: "runs" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new TypeError(`${(error as Error).message}\n${USAGE}`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Invalid --port ${JSON.stringify(values.port)}: expected 0-65535\n${USAGE}`,
    );
  }
  return { port, host: values.host, runs: values.runs };
}

if (import.meta.main) {
  let args: DashboardArgs;
  try {
    args = parseDashboardArgs(Deno.args);
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(2);
  }
  const controller = new AbortController();
  Deno.addSignalListener("SIGINT", () => controller.abort());
  const server = serveDashboard({
    runsDir: args.runs,
    port: args.port,
    hostname: args.host,
    signal: controller.signal,
  });
  await server.finished;
}
