/** Human and `--json` renderings of a pipeline report. */
import type { PipelineReport } from "../pipeline/runner.ts";

export function printReport(report: PipelineReport, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(report));
    return;
  }
  const width = Math.max(12, ...report.stages.map((stage) => stage.name.length));
  const rows = report.stages.map((stage) => {
    const seconds = stage.status === "would-run" ? "" : ` ${stage.seconds.toFixed(2)}s`;
    return `${stage.name.padEnd(width)} ${stage.status.padEnd(9)}${seconds}  ${stage.reason}`;
  });
  console.log(`pipeline ${report.pipeline} -> ${report.run}\n${rows.join("\n")}`);
  const last = report.stages.at(-1);
  if (last && Object.keys(last.metrics).length > 0) {
    console.log(`${last.name} metrics: ${JSON.stringify(last.metrics)}`);
  }
  const floor = floorComparison(report.stages);
  if (floor) console.log(floor);
}

type StageRow = Pick<PipelineReport["stages"][number], "name" | "metrics">;

/**
 * "per notion, test | raw-pixel floor: colour 0.860 | 0.685, ..." when the run holds both a
 * raw_pixels stage and a test stage with per-notion accuracy; otherwise undefined.
 */
export function floorComparison(stages: readonly StageRow[]): string | undefined {
  const perNotion = (name: string) => {
    const value = stages.find((s) => s.name === name)?.metrics.per_condition;
    return typeof value === "object" && value !== null
      ? value as Record<string, number>
      : undefined;
  };
  const test = perNotion("test"), floor = perNotion("raw_pixels");
  if (!test || !floor) return undefined;
  const cells = Object.entries(test).map(([notion, accuracy]) =>
    `${notion} ${accuracy.toFixed(3)} | ${floor[notion]?.toFixed(3) ?? "-"}`
  );
  return `per notion, test | raw-pixel floor: ${cells.join(", ")}`;
}
