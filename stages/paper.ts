/**
 * paper: the paper's comparison (Table 1) on our data. Collects the test results of every
 * mode and seed wired to it (inputs named <mode>, <mode>_val and <mode>_probe, one per seed
 * after expansion: standard-s1, standard_val-s1, ...) and the raw-pixel floor, and writes
 * results.md / results.json: the budget every mode trained under, mean ± spread over seeds per
 * notion, the ordering claims as paired differences, the learned masks' sparsity against
 * triplets seen, validation accuracy against triplets seen, the off-task probe, and the 2-D
 * maps per masked subspace (seed 1).
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
  stat,
  tableRows,
} from "../shared/paper/compare.ts";
import {
  CLAIM_PAIRS,
  claimsMarkdown,
  goals,
  goalsMarkdown,
  pairedClaim,
} from "../shared/paper/claims.ts";
import {
  curvesMarkdown,
  meanCurves,
  sparsityCurve,
  sparsityMarkdown,
} from "../shared/paper/sparsity.ts";
import { probeMarkdown, probeRows, type ProbeRun } from "../shared/paper/probe_report.ts";
import { describeBudget, isBudget, parseBudget } from "../shared/train/budget.ts";
import { lineChartSvg } from "../shared/charts/line_chart.js";
import { testRecord } from "../shared/artefacts/test_record.ts";
import { validationRecord } from "../shared/artefacts/validation_record.ts";
import { probeRecord } from "../shared/artefacts/probe_record.ts";

const ORDER = ["raw_pixels", "standard", "task_specific", "csn_fixed", "csn_learned"];

export default defineStage({
  name: "paper",
  description: "tabulates the modes of the paper side by side, with mean and spread over seeds",
  params: z.object({
    /** Seeds per mode: the pipeline runs every per-seed stage this many times. */
    seeds: z.number().int().min(1).max(100).default(3),
    /**
     * The training budget of every mode ("triplets:N" or "minutes:M"); the manifest hands it
     * to each train stage (params_from), and this stage checks each run trained under it.
     */
    budget: z.string().refine(isBudget, 'expected "triplets:N", "minutes:M" or ""').default(
      "triplets:144000",
    ),
  }),
  inputs: ["raw"],
  variadicInputs: true,
  outputs: ["results"],
  async run(ctx) {
    const runs: ModeRun[] = [];
    const validations = new Map<string, ModeRun["validation"]>();
    const probes: (ProbeRun & { dir: string; maps: string[] })[] = [];
    for (const [name, input] of Object.entries(ctx.inputs)) {
      const match = /^(.*?)(_val|_probe)?-s(\d+)$/.exec(name);
      if (!match) continue;
      const [, label, kind, seed] = match;
      if (kind === "_val") {
        validations.set(`${label}-${seed}`, await validationRecord.read(input.dir));
      } else if (kind === "_probe") {
        const probe = await probeRecord.read(input.dir);
        probes.push({
          label: label!,
          seed: Number(seed),
          rows: probe.rows,
          dir: input.dir,
          maps: probe.maps,
        });
      } else {
        runs.push({ label: label!, seed: Number(seed), test: await testRecord.read(input.dir) });
      }
    }
    const withCurves = runs.map((r) => ({
      ...r,
      validation: validations.get(`${r.label}-${r.seed}`),
    }));
    const budget = parseBudget(ctx.params.budget, "paper.budget");
    for (const run of withCurves) {
      const used = run.validation?.budget;
      if (used !== undefined && used !== ctx.params.budget) {
        throw new TypeError(
          `Cannot compare at budget "${ctx.params.budget}": ${run.label} seed ${run.seed} ` +
            `trained with budget "${used}" (wire its train stage with params_from paper.budget)`,
        );
      }
    }
    const raw = await testRecord.read(ctx.inputs.raw.dir);
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
    const claims = CLAIM_PAIRS.flatMap(([a, b]) => pairedClaim(withCurves, a, b) ?? []);
    const means = Object.fromEntries(rows.map((r) => [r.label, r.accuracy.mean]));
    const checks = goals(means);
    const learnedLabels = [...new Set(analyses.map((a) => a.label))];
    const sparsity = learnedLabels.map((label) => ({
      label,
      rows: sparsityCurve(withCurves, label, notions),
    }));
    const accuracyCurves = meanCurves(withCurves);
    const probeTable = probeRows(probes, ORDER);
    const out = ctx.outputs.results;
    const maps: string[] = [];
    await Deno.mkdir(join(out, "maps"), { recursive: true });
    for (const probe of probes.filter((p) => p.seed === Math.min(...probes.map((q) => q.seed)))) {
      for (const file of probe.maps) {
        const name = `maps/${probe.label}_s${probe.seed}_${file}`;
        await Deno.copyFile(join(probe.dir, file), join(out, name));
        maps.push(name);
      }
    }
    const done = trainingDone(withCurves);
    const seedList = [...new Set(withCurves.map((r) => r.seed))].sort((a, b) => a - b);
    const table = markdownTable(rows, notions);
    const markdown = [
      `# CSN paper comparison\n`,
      `Budget: ${describeBudget(budget)}, the same for every mode (paper.budget = ` +
      `"${ctx.params.budget}"). Seeds: ${seedList.join(", ") || "none"}. Test triplet ` +
      `accuracy (%), mean ± sample std over seeds.\n`,
      table,
      `Training done per run (mean over seeds): ${done} (the minutes each took are the train ` +
      `stages' train_seconds in runs/NAME/record.json).\n`,
      `## Ordering claims\n`,
      `Test accuracy difference per seed (same seeds, same triplets), mean ± sample std over ` +
      `seeds:\n`,
      claimsMarkdown(claims),
      `## The paper's findings as checks (mean test accuracy)\n`,
      checks.length ? goalsMarkdown(checks) : "No CSN run.\n",
      `## Validation accuracy (%) against training triplets seen (mean over seeds)\n`,
      curvesMarkdown(accuracyCurves),
      `## Learned masks: active dimensions per notion against triplets seen\n`,
      sparsity.length
        ? sparsity.map((s) => `${s.label}:\n\n${sparsityMarkdown(s.rows, notions)}`).join("\n")
        : "No learned masks in this run.\n",
      `A dimension is active when its mask value exceeds 10 % of the largest. At the end ` +
      `(test checkpoint):\n`,
      analyses.length ? masksMarkdown(analyses) : "No learned masks in this run.\n",
      `## Off-task probe: serif vs sans-serif\n`,
      `Nearest class mean on frozen embeddings of the training images, scored on the test ` +
      `images; no triplet uses this label. Balanced accuracy (the mean of the per-class ` +
      `accuracies) has chance level 50 %; plain accuracy stands beside the share of the ` +
      `most frequent class.\n`,
      probeTable.length ? probeMarkdown(probeTable) : "No probe in this run.\n",
      `## Maps of the masked subspaces (UMAP, test images)\n`,
      maps.length ? maps.map((m) => `![${m}](${m})`).join("\n\n") + "\n" : "No maps.\n",
    ].join("\n");
    await Deno.writeTextFile(join(out, "results.md"), markdown);
    const json = {
      format: "csn-paper/2",
      budget: ctx.params.budget,
      seeds: seedList,
      notions,
      rows,
      claims,
      goals: checks,
      masks: analyses,
      sparsity,
      validation_curves: Object.fromEntries(
        [...accuracyCurves].map(([label, m]) => [label, [...m]]),
      ),
      probe: probeTable,
      maps,
    };
    await Deno.writeTextFile(join(out, "results.json"), JSON.stringify(json, null, 2) + "\n");
    await Deno.writeTextFile(
      join(out, "accuracy_vs_triplets.svg"),
      lineChartSvg({
        title: "Validation accuracy against training triplets seen",
        xLabel: "training triplets seen",
        yLabel: "validation accuracy",
        series: curves(withCurves),
      }),
    );
    const charts = ["accuracy_vs_triplets.svg"];
    if (sparsity.length) {
      await Deno.writeTextFile(
        join(out, "mask_sparsity.svg"),
        lineChartSvg({
          title: "Learned masks: active dimensions per notion (mean over seeds)",
          xLabel: "training triplets seen",
          yLabel: "active dimensions",
          series: sparsity.flatMap((s) =>
            notions.map((n) => ({
              name: `${s.label} ${n}`,
              points: s.rows.map((r) => [r.triplets, r.active[n]!] as [number, number]),
            }))
          ),
        }),
      );
      charts.push("mask_sparsity.svg");
    }
    ctx.log(`\n${table}\n${claimsMarkdown(claims)}`);
    return {
      metrics: {
        budget: ctx.params.budget,
        modes: Object.fromEntries(rows.map((row) => [row.label, {
          accuracy: row.accuracy.mean,
          std: row.accuracy.std,
          per_condition: Object.fromEntries(
            Object.entries(row.per_condition).map(([k, v]) => [k, v.mean]),
          ),
        }])),
      },
      publish: { results: ["results.md", "results.json", ...charts, ...maps] },
    };
  },
});

/**
 * "standard 144,000 triplets; ..." from the runs' validation records. Minutes are not here:
 * artefacts hold no timings (they would change the ids of identical runs); the train stages'
 * train_seconds are in the run record.
 */
function trainingDone(runs: readonly ModeRun[]): string {
  const labels = [...new Set(runs.map((r) => r.label))];
  return labels.map((label) => {
    const mine = runs.filter((r) => r.label === label && r.validation?.triplets_seen);
    if (mine.length === 0) return `${label} (not recorded)`;
    const triplets = stat(mine.map((r) => r.validation!.triplets_seen!)).mean;
    return `${label} ${Math.round(triplets).toLocaleString("en-US")} triplets`;
  }).join("; ") || "none recorded";
}
