/**
 * The comparison's pure parts: training budgets, seeds aggregated into paired claims, the
 * nearest-class-mean probe (against a naive implementation, and above chance on a separable
 * toy set), the mask-sparsity curve, and a manifest param handed to several stages.
 */
import assert from "node:assert/strict";
import { budgetSpent, parseBudget } from "../shared/train/budget.ts";
import { claimsMarkdown, goals, pairedClaim } from "../shared/paper/claims.ts";
import { nearestMeanProbe } from "../shared/paper/probe.ts";
import { probeRows } from "../shared/paper/probe_report.ts";
import { meanCurves, sparsityCurve } from "../shared/paper/sparsity.ts";
import { typeLabels } from "../shared/paper/font_categories.ts";
import type { ModeRun } from "../shared/paper/compare.ts";
import { Rng } from "../shared/util/rng.ts";
import { planStages } from "../shared/pipeline/plan.ts";
import { loadManifest } from "../shared/pipeline/manifest.ts";
import { REPO } from "./support/cli.ts";

Deno.test("budgets parse, reject bad text by name, and are spent at the stated amount", () => {
  assert.deepEqual(parseBudget("triplets:144000"), { kind: "triplets", triplets: 144000 });
  assert.deepEqual(parseBudget("minutes:2.5"), { kind: "minutes", minutes: 2.5 });
  assert.deepEqual(parseBudget(""), { kind: "none" });
  for (const bad of ["triplets:1.5", "triplets:0", "hours:2", "minutes:", "144000"]) {
    assert.throws(() => parseBudget(bad, "paper.budget"), /Cannot read paper\.budget/);
  }
  const t = parseBudget("triplets:100");
  assert.equal(budgetSpent(t, 99, 1e9), false);
  assert.equal(budgetSpent(t, 100, 0), true);
  const m = parseBudget("minutes:1");
  assert.equal(budgetSpent(m, 1e9, 59.9), false);
  assert.equal(budgetSpent(m, 0, 60), true);
  assert.equal(budgetSpent(parseBudget(""), 1e12, 1e12), false);
});

function run(label: string, seed: number, accuracy: number): ModeRun {
  return {
    label,
    seed,
    test: { mode: "csn", accuracy, per_condition: {}, triplets: 1 },
  };
}

Deno.test("seeds aggregate into paired claims with their spread", () => {
  const runs = [
    run("standard", 1, 0.70),
    run("standard", 2, 0.72),
    run("standard", 3, 0.68),
    run("csn_fixed", 1, 0.86),
    run("csn_fixed", 2, 0.87),
    run("csn_fixed", 3, 0.90),
    run("csn_fixed", 4, 0.99), // no standard seed 4: not paired
  ];
  const claim = pairedClaim(runs, "csn_fixed", "standard")!;
  assert.deepEqual(claim.seeds, [1, 2, 3]);
  // differences 0.16, 0.15, 0.22: mean 0.17667, sample std 0.03786
  assert.ok(Math.abs(claim.difference.mean - 0.176667) < 1e-5);
  assert.ok(Math.abs(claim.difference.std - 0.037859) < 1e-5);
  assert.equal(claim.above, 3);
  assert.equal(
    claimsMarkdown([claim]),
    "- csn_fixed − standard: +17.7 ± 3.8 points, above in 3 of 3 seeds\n",
  );
  assert.equal(pairedClaim(runs, "csn_learned", "standard"), null);
  const one = pairedClaim([run("a", 1, 0.5), run("b", 1, 0.6)], "a", "b")!;
  assert.match(claimsMarkdown([one]), /-10\.0 points \(one seed: no spread\), above in 0 of 1/);
  const checks = goals({
    standard: 0.72,
    task_specific: 0.89,
    csn_fixed: 0.874,
    csn_learned: 0.884,
  });
  assert.deepEqual(checks.map((g) => g.met), [true, true, true]);
  assert.deepEqual(goals({ standard: 0.8, csn_fixed: 0.85 }).map((g) => g.met), [false, false]);
});

/** The probe written the obvious way: class means by filtering, nearest by Math.hypot. */
function naiveProbe(
  train: number[][],
  trainLabels: number[],
  test: number[][],
  testLabels: number[],
  classes: number,
  mask: number[],
) {
  const masked = (v: number[]) => v.map((x, k) => x * mask[k]!).filter((_, k) => mask[k] !== 0);
  const means = Array.from({ length: classes }, (_, c) => {
    const rows = train.filter((_, i) => trainLabels[i] === c).map(masked);
    return rows.length
      ? rows[0]!.map((_, k) => rows.reduce((s, r) => s + r[k]!, 0) / rows.length)
      : null;
  });
  let hits = 0, n = 0;
  test.forEach((row, i) => {
    if (testLabels[i]! < 0) return;
    const x = masked(row);
    let best = -1, bestD = Infinity;
    means.forEach((m, c) => {
      if (!m) return;
      const dist = Math.hypot(...x.map((v, k) => v - m[k]!));
      if (dist < bestD) [best, bestD] = [c, dist];
    });
    n++;
    if (best === testLabels[i]) hits++;
  });
  return hits / n;
}

function toySet(rng: Rng, n: number, d: number, classes: number, separation: number) {
  const rows: number[][] = [], labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % classes;
    labels.push(i % 17 === 0 ? -1 : c);
    // Class c is shifted along dimension 0 only; the others are noise.
    rows.push(
      Array.from({ length: d }, (_, k) => rng.next() - 0.5 + (k === 0 ? separation * c : 0)),
    );
  }
  return { rows, labels };
}

Deno.test("the nearest-class-mean probe matches a naive one and beats chance when separable", () => {
  const d = 6, classes = 3, rng = new Rng(7);
  const train = toySet(rng, 300, d, classes, 1.5), test = toySet(rng, 200, d, classes, 1.5);
  const pack = (s: { rows: number[][]; labels: number[] }) => ({
    embeddings: Float32Array.from(s.rows.flat()),
    labels: Int32Array.from(s.labels),
  });
  const f32 = (rows: number[][]) =>
    Array.from(Float32Array.from(rows.flat())).reduce(
      (out: number[][], v, i) => (i % d ? out.at(-1)!.push(v) : out.push([v]), out),
      [],
    );
  const score = nearestMeanProbe(pack(train), pack(test), d, classes);
  const ones = Array(d).fill(1);
  const naive = naiveProbe(
    f32(train.rows),
    train.labels,
    f32(test.rows),
    test.labels,
    classes,
    ones,
  );
  assert.ok(Math.abs(score.accuracy - naive) < 1e-12, `${score.accuracy} vs naive ${naive}`);
  assert.equal(score.test, test.labels.filter((c) => c >= 0).length);
  assert.ok(score.accuracy > 0.9, `separable: ${score.accuracy}`);
  assert.ok(score.chance < 0.4 && score.balanced > 0.9);
  // Masked to the noise dimensions only, the label is not recoverable: near chance.
  const noise = [0, 1, 1, 1, 1, 1];
  const blind = nearestMeanProbe(pack(train), pack(test), d, classes, Float32Array.from(noise));
  const naiveBlind = naiveProbe(
    f32(train.rows),
    train.labels,
    f32(test.rows),
    test.labels,
    classes,
    noise,
  );
  assert.ok(Math.abs(blind.accuracy - naiveBlind) < 1e-12);
  assert.ok(blind.accuracy < 0.5, `noise only: ${blind.accuracy}`);
  assert.throws(
    () => nearestMeanProbe(pack(train), { ...pack(test), labels: new Int32Array(3) }, d, classes),
    /Cannot probe: test has 200 embeddings but 3 labels/,
  );
  const rows = probeRows([
    {
      label: "csn_fixed",
      seed: 2,
      rows: [{ features: "whole embedding", score: { ...score, balanced: 0.8 } }],
    },
    {
      label: "csn_fixed",
      seed: 1,
      rows: [{ features: "whole embedding", score: { ...score, balanced: 0.9 } }],
    },
  ], ["csn_fixed"]);
  assert.equal(rows.length, 1);
  assert.ok(Math.abs(rows[0]!.balanced.mean - 0.85) < 1e-12 && rows[0]!.balanced.n === 2);
});

Deno.test("serif/sans labels come from the family names; others stay unlabelled", () => {
  const labels = typeLabels(Int32Array.from([0, 1, 2, -1]), ["roboto", "merriweather", "pacifico"]);
  assert.deepEqual([...labels], [0, 1, -1, -1]);
});

Deno.test("mask sparsity and accuracy curves average seeds at each triplets-seen point", () => {
  const masks = (
    k: number,
  ) => [Array.from({ length: 8 }, (_, i) => (i < k ? 1 : 0)), [1, 1, 0, 0, 0, 0, 0, 0]];
  const learned = (seed: number, early: number, late: number): ModeRun => ({
    ...run("csn_learned", seed, 0.8),
    validation: {
      triplets_per_epoch: 100,
      curve: [
        { epoch: 1, accuracy: 0.6 + seed / 100, triplets_seen: 100, mask_values: masks(early) },
        { epoch: 2, accuracy: 0.7, triplets_seen: 150, mask_values: masks(late) },
      ],
    },
  });
  const runs = [learned(1, 8, 4), learned(2, 6, 2)];
  const rows = sparsityCurve(runs, "csn_learned", ["a", "b"]);
  assert.deepEqual(rows.map((r) => r.triplets), [100, 150]);
  assert.deepEqual(rows.map((r) => r.active.a), [7, 3]);
  assert.deepEqual(rows.map((r) => r.shared), [2, 2]);
  const curves = meanCurves(runs).get("csn_learned")!;
  assert.ok(Math.abs(curves.get(100)! - 0.615) < 1e-12);
  assert.equal(curves.get(150), 0.7);
});

Deno.test("paper.budget reaches every train stage of the paper pipeline; --set changes all", async () => {
  const manifest = await loadManifest(REPO, "paper");
  const project = { root: REPO } as Parameters<typeof planStages>[0];
  const plan = await planStages(project, manifest, { paper: { budget: "minutes:2", seeds: 2 } });
  const trains = plan.stages.filter((s) => s.entry.uses === "train");
  assert.equal(trains.length, 8);
  assert.ok(trains.every((s) => s.params.budget === "minutes:2"), "every mode, every seed");
  const byDefault = await planStages(project, manifest, {});
  const budgets = byDefault.stages.filter((s) => s.entry.uses === "train").map((s) =>
    s.params.budget
  );
  assert.deepEqual(budgets, Array(12).fill("triplets:144000"), "three seeds of four modes");
  await assert.rejects(
    () => planStages(project, manifest, { paper: { budget: "hours:3" } }),
    /paper\.budget/,
  );
});
