/**
 * The I/O edge of the report and TensorBoard export: read runs/NAME/{metrics.jsonl,
 * record.json, params.json}, write runs/NAME/report.html and runs/NAME/tb/.
 */
import { basename, join } from "node:path";
import { readJsonIfExists, writeFileAtomic } from "../util/fs.ts";
import { type MetricsRecord, parseMetricsLines } from "../artefacts/metrics_log.ts";
import { renderReport } from "./report_html.ts";
import { parseRunSummary, type RunSummary } from "./run_summary.ts";
import { writeTensorboard } from "./tfevents.ts";

export interface RunFiles {
  name: string;
  records: MetricsRecord[];
  record?: RunSummary;
  params?: unknown;
}

/** Reads metrics lines (none when the file is missing), the run record and the params. */
export async function readMetrics(runDir: string): Promise<MetricsRecord[]> {
  const file = join(runDir, "metrics.jsonl");
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return parseMetricsLines(text, file);
}

export async function readRunFiles(runDir: string): Promise<RunFiles> {
  const recordFile = join(runDir, "record.json");
  const raw = await readJsonIfExists(recordFile);
  return {
    name: basename(runDir),
    records: await readMetrics(runDir),
    record: raw === undefined ? undefined : parseRunSummary(raw, recordFile),
    params: await readJsonIfExists(join(runDir, "params.json")),
  };
}

/** Writes runDir/report.html from the run's files and returns its path. */
export async function writeReport(runDir: string): Promise<string> {
  const file = join(runDir, "report.html");
  await writeFileAtomic(file, renderReport(await readRunFiles(runDir)));
  return file;
}

/**
 * Backfills runDir/tb/<series>/events.out.tfevents.* from metrics.jsonl for series that have
 * no live event file (older runs); returns the files written.
 */
export async function writeRunTensorboard(runDir: string): Promise<string[]> {
  return await writeTensorboard(await readMetrics(runDir), join(runDir, "tb"));
}
