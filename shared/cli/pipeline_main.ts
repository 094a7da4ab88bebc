/** deno task pipeline NAME [--until STAGE] [--set stage.param=value] [--name RUN] ... */
import { type RunOptions, runPipeline } from "../pipeline/runner.ts";
import { runOnSlurm } from "../cluster/slurm_run.ts";
import { validRunName } from "../pipeline/run_record.ts";
import { type FlagSpec, log, main, parseArgs, usage } from "./args.ts";
import { UsageError } from "../util/usage_error.ts";
import { overridesFromSets } from "./overrides.ts";
import { printReport } from "./report.ts";
import { writeRunViews } from "./after_run.ts";
import { projectWithStore, STORE_FLAG } from "./store_flag.ts";

const FLAGS: Record<string, FlagSpec> = {
  until: { value: true, help: "stop after this stage" },
  set: { value: true, repeat: true, help: "override a param: stage.param=value (repeatable)" },
  name: { value: true, help: "run folder name under runs/ (default: the pipeline's name)" },
  force: { value: true, repeat: true, help: "rerun this stage even when cached (repeatable)" },
  "dry-run": { value: false, help: "say what would run, run nothing" },
  store: STORE_FLAG,
  executor: { value: true, help: "where stages run: local (default) or slurm (sbatch jobs)" },
  partition: { value: true, help: "with --executor slurm: the partition to submit to" },
  json: { value: false, help: "print one JSON object on stdout" },
  help: { value: false, help: "show this help" },
};

if (import.meta.main) {
  await main(async () => {
    const args = parseArgs(Deno.args, FLAGS);
    if (args.flags.help) {
      console.log(
        usage("pipeline NAME [flags]", "Runs a pipeline, skipping cached stages.", FLAGS),
      );
      return 0;
    }
    if (args.positional.length !== 1) {
      throw new UsageError(
        `Cannot run a pipeline: got ${args.positional.length} names, expected one pipeline name, ` +
          `e.g. \`deno task pipeline full\``,
      );
    }
    const project = projectWithStore(args.flags);
    const executor = args.flags.executor?.[0] ?? "local";
    if (executor !== "local" && executor !== "slurm") {
      throw new UsageError(`Cannot read --executor "${executor}": expected local or slurm`);
    }
    if (args.flags.partition && executor !== "slurm") {
      throw new UsageError(
        `Cannot use --partition with --executor ${executor}: it needs --executor slurm`,
      );
    }
    const run = executor === "slurm"
      ? (options: RunOptions) =>
        runOnSlurm(project, { ...options, partition: args.flags.partition?.[0] })
      : (options: RunOptions) => runPipeline(project, options);
    const report = await run({
      pipeline: args.positional[0]!,
      runName: args.flags.name ? validRunName(args.flags.name[0]!) : undefined,
      until: args.flags.until?.[0],
      overrides: overridesFromSets(args.flags.set ?? []),
      force: args.flags.force ?? [],
      dryRun: Boolean(args.flags["dry-run"]),
      log,
    });
    if (!args.flags["dry-run"]) await writeRunViews(project, report.run, log);
    printReport(report, Boolean(args.flags.json));
  });
}
