/** What every pipeline or stage run leaves for people: report.html and TensorBoard files. */
import { join } from "node:path";
import { writeReport, writeRunTensorboard } from "../observe/run_files.ts";
import type { Project } from "../pipeline/project.ts";

export async function writeRunViews(project: Project, run: string, log: (m: string) => void) {
  const dir = join(project.root, run);
  const report = await writeReport(dir);
  const events = await writeRunTensorboard(dir);
  log(`report: ${report}; TensorBoard: ${events.length} event file(s) in ${join(run, "tb")}`);
}
