/**
 * What every pipeline or stage run leaves for people: report.html, and TensorBoard files for
 * series that were not logged live (the live ones are already complete and stay untouched).
 */
import { join } from "node:path";
import { writeReport, writeRunTensorboard } from "../observe/run_files.ts";
import type { Project } from "../pipeline/project.ts";

export async function writeRunViews(project: Project, run: string, log: (m: string) => void) {
  const dir = join(project.root, run);
  const report = await writeReport(dir);
  const events = await writeRunTensorboard(dir);
  const backfilled = events.length > 0 ? ` (${events.length} backfilled)` : "";
  log(`report: ${report}; TensorBoard: ${join(run, "tb")}${backfilled}`);
}
