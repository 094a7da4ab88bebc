/**
 * Writes a run's report.html and TensorBoard event files:
 *   deno run -A shared/observe/report_main.ts runs/NAME [runs/OTHER ...]
 */
import { writeReport, writeRunTensorboard } from "./run_files.ts";

if (import.meta.main) {
  const dirs = Deno.args;
  if (dirs.length === 0 || dirs.some((d) => d.startsWith("-"))) {
    console.error("Usage: deno run -A shared/observe/report_main.ts runs/NAME [runs/NAME ...]");
    Deno.exit(2);
  }
  for (const dir of dirs) {
    console.error(`wrote ${await writeReport(dir)}`);
    for (const file of await writeRunTensorboard(dir)) console.error(`wrote ${file}`);
  }
}
