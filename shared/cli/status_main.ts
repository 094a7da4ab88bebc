/** deno task status [NAME] [--name RUN] [--json]: what would rerun and why. */
import { runPipeline } from "../pipeline/runner.ts";
import { validRunName } from "../pipeline/run_record.ts";
import { type FlagSpec, log, main, parseArgs, usage } from "./args.ts";
import { UsageError } from "../util/usage_error.ts";
import { overridesFromSets } from "./overrides.ts";
import { printReport } from "./report.ts";
import { projectWithStore, STORE_FLAG } from "./store_flag.ts";

const FLAGS: Record<string, FlagSpec> = {
  name: { value: true, help: "run folder name (default: the pipeline's name)" },
  set: { value: true, repeat: true, help: "as for pipeline: what if this param changed" },
  until: { value: true, help: "only up to this stage" },
  store: STORE_FLAG,
  json: { value: false, help: "print one JSON object on stdout" },
  help: { value: false, help: "show this help" },
};

if (import.meta.main) {
  await main(async () => {
    const args = parseArgs(Deno.args, FLAGS);
    if (args.flags.help) {
      console.log(
        usage("status [NAME] [flags]", "Says for each stage whether it would run.", FLAGS),
      );
      return 0;
    }
    if (args.positional.length > 1) {
      throw new UsageError(
        `Cannot show status: got ${args.positional.length} pipeline names, expected at most one`,
      );
    }
    const report = await runPipeline(projectWithStore(args.flags), {
      pipeline: args.positional[0] ?? "full",
      runName: args.flags.name ? validRunName(args.flags.name[0]!) : undefined,
      until: args.flags.until?.[0],
      overrides: overridesFromSets(args.flags.set ?? []),
      dryRun: true,
      log,
    });
    printReport(report, Boolean(args.flags.json));
  });
}
