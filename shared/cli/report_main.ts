/**
 * Writes a run's report.html and TensorBoard event files:
 *   deno task report runs/NAME [runs/OTHER ...]
 */
import { writeReport, writeRunTensorboard } from "../observe/run_files.ts";
import { UsageError } from "../util/usage_error.ts";
import { type FlagSpec, log, main, parseArgs, usage } from "./args.ts";

const FLAGS: Record<string, FlagSpec> = { help: { value: false, help: "show this help" } };

if (import.meta.main) {
  await main(async () => {
    const { positional, flags } = parseArgs(Deno.args, FLAGS);
    if (flags.help) {
      console.log(
        usage(
          "report runs/NAME [runs/NAME ...]",
          "Writes report.html and TensorBoard files.",
          FLAGS,
        ),
      );
      return 0;
    }
    if (positional.length === 0) {
      throw new UsageError("Cannot write a report: expected one or more run folders (runs/NAME)");
    }
    for (const dir of positional) {
      log(`wrote ${await writeReport(dir)}`);
      for (const file of await writeRunTensorboard(dir)) log(`wrote ${file}`);
    }
  });
}
