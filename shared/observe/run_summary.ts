/**
 * What the report and the dashboard read from runs/NAME/record.json, taken leniently (only the
 * fields they show, each optional) so that a newer record format still renders.
 */
import { z } from "zod";
import type { TestMetrics } from "../charts/test_table.js";
import { testMetricsFromRecords } from "../charts/test_table.js";
import type { MetricsRecord } from "../artefacts/metrics_log.ts";

export const StageSummarySchema = z.object({
  uses: z.string().optional(),
  key: z.string().optional(),
  seconds: z.number().optional(),
  outputs: z.record(z.string(), z.string()).optional(),
  metrics: z.record(z.string(), z.unknown()).optional(),
  finished: z.string().optional(),
});

export const RunSummarySchema = z.object({
  pipeline: z.string().optional(),
  run: z.string().optional(),
  stages: z.record(z.string(), StageSummarySchema).optional(),
});

export type RunSummary = z.output<typeof RunSummarySchema>;

export function parseRunSummary(raw: unknown, file: string): RunSummary {
  const parsed = RunSummarySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TypeError(
      `Cannot read run record "${file}": ${issue.path.join(".")}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/**
 * The test metrics of a run: the `test` stage's metrics in record.json (by name, else the
 * first stage that uses the test module), else the last `test` metrics line.
 */
export function testMetrics(
  summary: RunSummary | undefined,
  records: readonly MetricsRecord[],
): TestMetrics | undefined {
  const stages = summary?.stages ?? {};
  const stage = stages["test"] ?? Object.values(stages).find((s) => s.uses === "test");
  if (stage?.metrics && Object.keys(stage.metrics).length > 0) return stage.metrics;
  return testMetricsFromRecords([...records]);
}
