/**
 * Appends a training series' lines to runs/NAME/metrics.jsonl (and keeps a copy), and the
 * same lines live to the series' TensorBoard event file (runs/NAME/tb/<series>/).
 */
import { join } from "node:path";
import { appendMetrics, type MetricsRecord, parseMetricsLines } from "../artefacts/metrics_log.ts";
import { SeriesEvents } from "./series_events.ts";
import { writeFileAtomic } from "../util/fs.ts";

export interface MetricsLogOptions {
  /** Start the series over: its old lines and event file go. */
  readonly fresh?: boolean;
  /** The epoch a resumed run goes on from: the series' later training lines go. */
  readonly resumedFrom?: number;
  /** Kinds this opener writes whole (validate's "val", test's "test"): the series' earlier
   * lines of those kinds go, a killed attempt's included. */
  readonly rewrites?: readonly MetricsRecord["kind"][];
}

export class MetricsLog {
  readonly lines: MetricsRecord[] = [];

  private constructor(
    readonly path: string,
    readonly series: string,
    readonly events: SeriesEvents,
  ) {}

  /**
   * Opens runs/NAME/metrics.jsonl for `series`, keeping its lines (an evaluating stage adds
   * to a training run's series). `fresh` drops that series' old lines (from an earlier run of
   * the stage); a run resumed after epoch `resumedFrom` keeps the training lines up to that
   * epoch and drops the later ones a killed attempt wrote, so no step appears twice.
   */
  static async open(
    runDir: string,
    series: string,
    options: MetricsLogOptions = {},
  ): Promise<MetricsLog> {
    const { fresh = false, resumedFrom, rewrites = [] } = options;
    const path = join(runDir, "metrics.jsonl");
    let text = "";
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    const records = parseMetricsLines(text, path);
    const log = new MetricsLog(path, series, await SeriesEvents.open(runDir, series, fresh));
    const stale = (r: MetricsRecord) =>
      (resumedFrom !== undefined && (r.kind === "step" || r.kind === "epoch") &&
        r.epoch > resumedFrom) || rewrites.includes(r.kind);
    const kept = records.filter((r) => r.series !== series || (!fresh && !stale(r)));
    log.lines.push(...kept.filter((r) => r.series === series));
    if (kept.length !== records.length) {
      await writeFileAtomic(path, kept.map((r) => JSON.stringify(r) + "\n").join(""));
    }
    return log;
  }

  async append(record: Omit<MetricsRecord, "time" | "series">): Promise<void> {
    const line: MetricsRecord = { time: new Date().toISOString(), series: this.series, ...record };
    this.lines.push(line);
    await appendMetrics(this.path, line);
    await this.events.record(line);
  }
}
