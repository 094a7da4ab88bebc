/**
 * Starts the live dashboard:
 *   deno task dashboard [--port 8080] [--host 127.0.0.1] [--runs runs]
 * It listens on localhost unless --host says otherwise; Ctrl-C stops it.
 */
import { serveDashboard } from "../observe/dashboard/server.ts";
import { UsageError } from "../util/usage_error.ts";
import { type FlagSpec, main, parseArgs, usage } from "./args.ts";

const FLAGS: Record<string, FlagSpec> = {
  port: { value: true, help: "port to listen on, 0-65535 (default 8080; 0: any free port)" },
  host: { value: true, help: "address to listen on (default 127.0.0.1)" },
  runs: { value: true, help: "folder of run folders (default runs)" },
};

const SUMMARY = "Serves live charts of the runs in a folder.";

export interface DashboardArgs {
  port: number;
  host: string;
  runs: string;
}

export function parseDashboardArgs(argv: readonly string[]): DashboardArgs {
  const { positional, flags } = parseArgs(argv, FLAGS);
  if (positional.length > 0) {
    throw new UsageError(
      `Cannot start the dashboard: unexpected argument "${positional[0]}", it takes only flags\n${
        usage("dashboard [flags]", SUMMARY, FLAGS)
      }`,
    );
  }
  const text = flags.port?.[0] ?? "8080";
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new UsageError(
      `Cannot read --port ${JSON.stringify(text)}: expected a whole number from 0 to 65535`,
    );
  }
  return {
    port,
    host: flags.host?.[0] ?? "127.0.0.1",
    runs: flags.runs?.[0] ?? "runs",
  };
}

if (import.meta.main) {
  await main(async () => {
    const args = parseDashboardArgs(Deno.args);
    const controller = new AbortController();
    Deno.addSignalListener("SIGINT", () => controller.abort());
    const server = serveDashboard({
      runsDir: args.runs,
      port: args.port,
      hostname: args.host,
      signal: controller.signal,
    });
    await server.finished;
  });
}
