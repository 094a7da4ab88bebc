/**
 * deno task push RUN [--store s3://bucket/prefix] [--json]
 * deno task pull RUN [--store s3://bucket/prefix] [--json]
 * Copies a run's artefacts, cache entries and record to or from a remote store (default:
 * CSN_STORE), resumably and verified.
 */
import { openProject } from "../pipeline/project.ts";
import { validRunName } from "../pipeline/run_record.ts";
import { pullRun, pushRun } from "../pipeline/sync.ts";
import { type FlagSpec, log, main, parseArgs, usage } from "./args.ts";
import { UsageError } from "../util/usage_error.ts";
import { STORE_FLAG } from "./store_flag.ts";

const FLAGS: Record<string, FlagSpec> = {
  store: { ...STORE_FLAG, help: "the remote: s3://bucket/prefix (default: CSN_STORE)" },
  json: { value: false, help: "print one JSON object on stdout" },
  help: { value: false, help: "show this help" },
};

if (import.meta.main) {
  await main(async () => {
    const [direction, ...argv] = Deno.args;
    if (direction !== "push" && direction !== "pull") {
      throw new UsageError(
        `Cannot sync: got ${
          direction === undefined ? "no command" : `"${direction}"`
        }, expected push or pull first`,
      );
    }
    const args = parseArgs(argv, FLAGS);
    if (args.flags.help) {
      const summary = direction === "push"
        ? "Copies a run's artefacts, cache entries and record to a remote store."
        : "Copies a run's artefacts, cache entries and record from a remote store.";
      console.log(usage(`${direction} RUN [flags]`, summary, FLAGS));
      return 0;
    }
    if (args.positional.length !== 1) {
      throw new UsageError(
        `Cannot ${direction}: got ${args.positional.length} run names, expected one, ` +
          `e.g. \`deno task ${direction} full\``,
      );
    }
    const run = validRunName(args.positional[0]!);
    const url = args.flags.store?.[0] ?? Deno.env.get("CSN_STORE");
    if (!url || url === "local") {
      throw new UsageError(
        `Cannot ${direction} run "${run}": it needs a remote store, ` +
          `--store s3://bucket/prefix or CSN_STORE`,
      );
    }
    const local = openProject(undefined, "local");
    const remote = openProject(undefined, url);
    const report = direction === "push"
      ? await pushRun(local, remote, run, log)
      : await pullRun(local, remote, run, log);
    if (args.flags.json) console.log(JSON.stringify(report));
    else {
      log(
        `${direction}: ${report.copied.length} artefact(s) copied, ${report.present.length} ` +
          `already there, ${report.entries} cache entr(ies); run ${run} ${
            direction === "push" ? "to" : "from"
          } ${url}`,
      );
    }
  });
}
