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
}
