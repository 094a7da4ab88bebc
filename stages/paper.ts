/**
 * paper: the paper's comparison (Table 1) on our data. Collects the test results of every
 * mode and seed wired to it (inputs named <mode> and <mode>_val, one per seed after
 * expansion: standard-s1, standard_val-s1, ...) and the raw-pixel floor, and writes
 * results.md / results.json (mean and spread over seeds per notion), the masks' active
 * dimensions and overlaps, and accuracy_vs_triplets.svg.
 */
import { join } from "node:path";
import { z } from "zod";
import { defineStage } from "../shared/stage/contract.ts";
import {
  analyseMasks,
  curves,
  markdownTable,
  masksMarkdown,
  type ModeRun,
  tableRows,
  type TestResult,
} from "../shared/paper/compare.ts";
import { lineChartSvg } from "../shared/observe/browser/line_chart.js";

const ORDER = ["raw_pixels", "standard", "task_specific", "csn_fixed", "csn_learned"];

export default defineStage({
  name: "paper",
  description: "tabulates the modes of the paper side by side, with mean and spread over seeds",
  params: z.object({
    /** Seeds per mode: the pipeline runs every per-seed stage this many times. */
    seeds: z.number().int().min(1).max(100).default(1),
  }),
  inputs: ["raw"],
  variadicInputs: true,
  outputs: ["results"],
  async run(ctx) {
    const runs: ModeRun[] = [];
    const validations = new Map<string, ModeRun["validation"]>();
    for (const [name, input] of Object.entries(ctx.inputs)) {
      const match = /^(.*?)(_val)?-s(\d+)$/.exec(name);
      if (!match) continue;
      const [, label, isVal, seed] = match;
      if (isVal) {
        validations.set(`${label}-${seed}`, await readJson(join(input.dir, "validation.json")));
      } else {
        const test = await readJson(join(input.dir, "test.json")) as TestResult;
        runs.push({ label: label!, seed: Number(seed), test });
      }
    }
    const withCurves = runs.map((r) => ({
      ...r,
      validation: validations.get(`${r.label}-${r.seed}`),
    }));
    const raw = await readJson(join(ctx.inputs.raw!.dir, "test.json")) as TestResult;
    const all: ModeRun[] = [{ label: "raw_pixels", seed: 0, test: raw }, ...withCurves];
    const notions = Object.keys(raw.per_condition);
    const rows = tableRows(all, ORDER).map((row) =>
      row.label === "raw_pixels" ? { ...row, seeds: [] } : row
    );
    const analyses = withCurves.flatMap((r) =>
      r.test.mask_values && r.test.masks !== "fixed"
        ? [analyseMasks(r.label, r.seed, r.test.condition_names ?? notions, r.test.mask_values)]
        : []
    );
    const out = ctx.outputs.results!;
    const table = markdownTable(rows, notions);
    const budget = withCurves[0]?.validation?.triplets_per_epoch;
    const markdown =
      `# CSN paper comparison\n\nTest triplet accuracy (%), mean ± sample std over ` +
      `seeds.\n\n${table}\n## Learned masks: active dimensions and overlaps\n\n` +
      (analyses.length ? masksMarkdown(analyses) : "No learned masks in this run.\n") +
      (budget ? `\nTraining triplets per epoch: ${budget}.\n` : "");
    await Deno.writeTextFile(join(out, "results.md"), markdown);
    await Deno.writeTextFile(
      join(out, "results.json"),
      JSON.stringify({ format: "csn-paper/1", notions, rows, masks: analyses }, null, 2) + "\n",
    );
    await Deno.writeTextFile(
      join(out, "accuracy_vs_triplets.svg"),
      lineChartSvg({
        title: "Validation accuracy against training triplets seen",
        xLabel: "training triplets seen",
        yLabel: "validation accuracy",
        series: curves(withCurves),
      }),
    );
    ctx.log(`\n${table}`);
    return {
      metrics: {
        modes: Object.fromEntries(rows.map((row) => [row.label, {
          accuracy: row.accuracy.mean,
          std: row.accuracy.std,
          per_condition: Object.fromEntries(
            Object.entries(row.per_condition).map(([k, v]) => [k, v.mean]),
          ),
        }])),
      },
      publish: { results: ["results.md", "results.json", "accuracy_vs_triplets.svg"] },
    };
  },
});

async function readJson(path: string) {
  return JSON.parse(await Deno.readTextFile(path));
}
