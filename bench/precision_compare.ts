/**
 * Compares finished pipeline runs of two groups (e.g. fp32 and bf16, one run per seed each):
 * per run its train seconds, triplets/s and test accuracy overall and per notion; per group
 * the mean; and the second group's difference from the first in accuracy points. Reads only
 * runs/<name>/record.json (the train and test stages' recorded metrics), so it measures
 * nothing itself: the runs' own timings stand, under whatever load they ran.
 *
 *   deno run --allow-read bench/precision_compare.ts full-fp32,full-fp32-s2 full-bf16,... \
 *     [--runs=runs] [--json]
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { RunRecordSchema } from "../shared/pipeline/run_record.ts";
import { formatZodError } from "../shared/util/zod_error.ts";

const TrainMetrics = z.object({ triplets_per_s: z.number() });
const TestMetrics = z.object({
  accuracy: z.number(),
  per_condition: z.record(z.string(), z.number()),
});

export interface RunFigures {
  run: string;
  precision: string;
  seed: number;
  trainSeconds: number;
  tripletsPerS: number;
  accuracy: number;
  perCondition: Record<string, number>;
}

export async function readRunFigures(runsDir: string, run: string): Promise<RunFigures> {
  const file = join(runsDir, run, "record.json");
  const parsed = RunRecordSchema.safeParse(JSON.parse(await Deno.readTextFile(file)));
  if (!parsed.success) {
    throw new TypeError(`Cannot read run record "${file}": ${formatZodError(parsed.error)}`);
  }
  const { train, test } = parsed.data.stages;
  if (!train || !test) {
    throw new TypeError(`Cannot compare run "${run}": ${file} lacks a train or test stage`);
  }
  const trainMetrics = TrainMetrics.parse(train.metrics);
  const testMetrics = TestMetrics.parse(test.metrics);
  const params = train.params ?? train.parts.params;
  return {
    run,
    precision: String(params.precision ?? "fp32"),
    seed: Number(params.seed ?? 1),
    trainSeconds: train.seconds,
    tripletsPerS: trainMetrics.triplets_per_s,
    accuracy: testMetrics.accuracy,
    perCondition: testMetrics.per_condition,
  };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Per group the mean of each figure; notions are those of the group's first run. */
export function groupMean(runs: RunFigures[]): Omit<RunFigures, "run" | "seed"> {
  const first = runs[0];
  if (!first) throw new RangeError("Cannot average a group: it has no runs");
  return {
    precision: first.precision,
    trainSeconds: mean(runs.map((r) => r.trainSeconds)),
    tripletsPerS: mean(runs.map((r) => r.tripletsPerS)),
    accuracy: mean(runs.map((r) => r.accuracy)),
    perCondition: Object.fromEntries(
      Object.keys(first.perCondition).map((
        name,
      ) => [name, mean(runs.map((r) => r.perCondition[name] ?? NaN))]),
    ),
  };
}

const pct = (x: number): string => (100 * x).toFixed(2);

function row(label: string, f: Omit<RunFigures, "run" | "seed">, notions: string[]): string {
  const cells = [
    label,
    f.precision,
    f.trainSeconds.toFixed(0),
    f.tripletsPerS.toFixed(0),
    pct(f.accuracy),
    ...notions.map((n) => pct(f.perCondition[n] ?? NaN)),
  ];
  return `| ${cells.join(" | ")} |`;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { runs: { type: "string", default: "runs" }, json: { type: "boolean" } },
    allowPositionals: true,
  });
  if (positionals.length !== 2) {
    console.error("usage: precision_compare.ts BASE_RUN[,RUN...] OTHER_RUN[,RUN...] [--json]");
    Deno.exit(2);
  }
  const groups = await Promise.all(
    positionals.map((list) =>
      Promise.all(list.split(",").map((r) => readRunFigures(values.runs, r)))
    ),
  );
  const [base, other] = groups.map(groupMean) as [
    ReturnType<typeof groupMean>,
    ReturnType<typeof groupMean>,
  ];
  const notions = Object.keys(base.perCondition);
  const diff = {
    accuracy_points: 100 * (other.accuracy - base.accuracy),
    per_condition_points: Object.fromEntries(
      notions.map((
        n,
      ) => [n, 100 * ((other.perCondition[n] ?? NaN) - (base.perCondition[n] ?? NaN))]),
    ),
    train_time_ratio: base.trainSeconds / other.trainSeconds,
  };
  if (values.json) {
    console.log(JSON.stringify({ runs: groups.flat(), means: [base, other], difference: diff }));
  } else {
    console.log(`| run | precision | train s | triplets/s | test acc % | ${notions.join(" | ")} |`);
    console.log(`|${" --- |".repeat(5 + notions.length)}`);
    for (const r of groups.flat()) console.log(row(`${r.run} (seed ${r.seed})`, r, notions));
    console.log(row("mean", base, notions));
    console.log(row("mean", other, notions));
    const points = [diff.accuracy_points, ...notions.map((n) => diff.per_condition_points[n]!)];
    console.log(
      `| difference (points) | | ${diff.train_time_ratio.toFixed(2)}x speed-up | | ` +
        `${points.map((p) => p.toFixed(2)).join(" | ")} |`,
    );
  }
}
