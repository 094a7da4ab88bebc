/**
 * Appends synthetic training metrics to a metrics.jsonl, one line per interval, so the
 * dashboard can be tried (and is tested) without training:
 *   deno run -A shared/cli/demo_writer_main.ts --out runs/demo/metrics.jsonl --interval-ms 200
 */
import { syntheticRecords } from "../observe/demo_writer.ts";
import { appendMetrics } from "../artefacts/metrics_log.ts";
import { UsageError } from "../util/usage_error.ts";
import { type FlagSpec, integerFlag, log, main, parseArgs, usage } from "./args.ts";

const FLAGS: Record<string, FlagSpec> = {
  out: { value: true, help: "metrics file to append to (runs/NAME/metrics.jsonl)" },
  "interval-ms": { value: true, help: "pause between lines (default 200)" },
  epochs: { value: true, help: "epochs to simulate (default 4)" },
  steps: { value: true, help: "steps per epoch (default 10)" },
  help: { value: false, help: "show this help" },
};

if (import.meta.main) {
  await main(async () => {
    const { positional, flags } = parseArgs(Deno.args, FLAGS);
    if (flags.help) {
      console.log(usage("demo_writer --out FILE [flags]", "Writes synthetic metrics.", FLAGS));
      return 0;
    }
    if (positional.length > 0) {
      throw new UsageError(
        `Cannot write demo metrics: unexpected argument "${positional[0]}", it takes only flags`,
      );
    }
    const out = flags.out?.[0];
    if (!out) {
      throw new UsageError("Cannot write demo metrics: --out runs/NAME/metrics.jsonl is required");
    }
    const interval = integerFlag("interval-ms", flags["interval-ms"]?.[0] ?? "200", 0);
    const records = syntheticRecords({
      epochs: integerFlag("epochs", flags.epochs?.[0] ?? "4", 1),
      stepsPerEpoch: integerFlag("steps", flags.steps?.[0] ?? "10", 1),
    });
    for (const record of records) {
      await appendMetrics(out, { ...record, time: new Date().toISOString() });
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
    log(`demo_writer: appended ${records.length} lines to ${out}`);
  });
}
