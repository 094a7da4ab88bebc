/** One row of the dashboard's run list, and a run's data for its page, read from its files. */
import { readJsonIfExists } from "../../util/fs.ts";
import { type MetricsRecord, parseMetricsLines } from "../../artefacts/metrics_log.ts";
import { parseRunSummary, type RunSummary, testMetrics } from "../run_summary.ts";
import type { RunFile, RunsRoot } from "./run_paths.ts";

export interface RunData {
  name: string;
  records: MetricsRecord[];
  record?: RunSummary;
  params?: unknown;
  /** Latest modification of metrics.jsonl or record.json. */
  updated?: Date;
  /** What could not be read, for the page to show instead of failing. */
  problems: string[];
}

export interface RunOverview {
  name: string;
  pipeline?: string;
  updated?: Date;
  testAccuracy?: number;
  lines: number;
  problems: string[];
}

/**
 * Reads a run through `root` (so every file is checked); undefined when the run itself is
 * refused. A file that is a link leading out is left unread and named in `problems`.
 */
export async function readRunData(root: RunsRoot, name: string): Promise<RunData | undefined> {
  if ((await root.runDir(name)) === undefined) return undefined;
  const data: RunData = { name, records: [], problems: [] };
  const label = (file: string) => `runs/${name}/${file}`;
  const locate = async (file: RunFile) => {
    const found = await root.runFile(name, file);
    if (!found) data.problems.push(`${label(file)} leads outside the runs folder: not read`);
    return found?.path;
  };
  const [metrics, record, params] = [
    await locate("metrics.jsonl"),
    await locate("record.json"),
    await locate("params.json"),
  ];
  const text = metrics === undefined ? undefined : await readTextIfExists(metrics);
  if (text !== undefined) {
    try {
      data.records = parseMetricsLines(text, label("metrics.jsonl"));
    } catch (error) {
      data.problems.push((error as Error).message);
    }
  }
  try {
    const raw = record === undefined ? undefined : await readJsonIfExists(record);
    if (raw !== undefined) data.record = parseRunSummary(raw, label("record.json"));
    if (params !== undefined) data.params = await readJsonIfExists(params);
  } catch (error) {
    data.problems.push((error as Error).message);
  }
  const times = await Promise.all([metrics, record].map((p) => (p ? mtime(p) : undefined)));
  const latest = Math.max(...times.map((t) => t?.getTime() ?? -Infinity));
  if (Number.isFinite(latest)) data.updated = new Date(latest);
  return data;
}

export function overview(data: RunData): RunOverview {
  const accuracy = testMetrics(data.record, data.records)?.accuracy;
  return {
    name: data.name,
    pipeline: data.record?.pipeline,
    updated: data.updated,
    testAccuracy: typeof accuracy === "number" ? accuracy : undefined,
    lines: data.records.length,
    problems: data.problems,
  };
}

async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

async function mtime(path: string): Promise<Date | undefined> {
  try {
    return (await Deno.stat(path)).mtime ?? undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}
