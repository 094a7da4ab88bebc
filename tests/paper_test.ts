/** The paper pipeline on tiny data: every mode and the floor, a results table, seeds. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runJson } from "./support/cli.ts";
import { TINY_BUDGET, tinyPaperProject } from "./support/tiny_project.ts";
import { removeTree } from "../shared/util/fs.ts";
import { analyseMasks, markdownTable, stat, tableRows } from "../shared/paper/compare.ts";

Deno.test("the paper pipeline compares every mode; adding a seed trains only the new runs", async () => {
  const dir = await tinyPaperProject();
  const first = await runJson(dir, "pipeline", ["paper"]);
  assert.ok(first.stages.every((stage) => stage.status === "ran"));
  const results = JSON.parse(await Deno.readTextFile(join(dir, "runs/paper/paper/results.json")));
  const labels = results.rows.map((row: { label: string }) => row.label);
  assert.deepEqual(labels, ["raw_pixels", "standard", "task_specific", "csn_fixed", "csn_learned"]);
  for (const row of results.rows) {
    assert.ok(row.accuracy.mean > 0 && row.accuracy.mean <= 1, `${row.label} accuracy`);
    assert.deepEqual(Object.keys(row.per_condition).sort(), [
      "character",
      "family",
      "slant",
      "weight",
    ]);
  }
  assert.equal(results.masks.length, 1, "the learned masks are analysed");
  assert.equal(Object.keys(results.masks[0].active).length, 4);
  const markdown = await Deno.readTextFile(join(dir, "runs/paper/paper/results.md"));
  assert.match(markdown, /\| csn_learned \| 1 \|/);
  const svg = await Deno.readTextFile(join(dir, "runs/paper/paper/accuracy_vs_triplets.svg"));
  assert.match(svg, /<svg[\s\S]*<path/);
  // The budget (1,500 triplets, batches of 32) cuts the first of two epochs of 2,000 in every
  // mode: 47 batches, 1,504 triplets, one checkpoint.
  for (const mode of ["standard", "task_specific", "csn_fixed", "csn_learned"]) {
    const validation = JSON.parse(
      await Deno.readTextFile(join(dir, `runs/paper/validate_${mode}-s1/validation.json`)),
    );
    assert.equal(validation.budget, TINY_BUDGET, mode);
    assert.equal(validation.triplets_seen, 1504, mode);
    assert.deepEqual(validation.curve.map((p: { triplets_seen: number }) => p.triplets_seen), [
      1504,
    ]);
  }
  assert.equal(results.budget, TINY_BUDGET);
  assert.match(markdown, /Budget: 1,500 training triplets per run, the same for every mode/);
  assert.match(markdown, /csn_fixed − standard: [+-]\d+\.\d points \(one seed: no spread\)/);
  assert.equal(results.sparsity[0].label, "csn_learned");
  assert.equal(results.sparsity[0].rows[0].triplets, 1504);
  const probed = results.probe.map((r: { label: string; features: string }) =>
    `${r.label}: ${r.features}`
  );
  assert.ok(probed.includes("standard: whole embedding"));
  assert.ok(probed.includes("csn_fixed: character subspace"));
  for (const row of results.probe) {
    assert.ok(row.balanced.mean >= 0 && row.balanced.mean <= 1 && row.test > 0, row.label);
  }
  assert.equal(results.maps.length, 8, "a map per masked subspace of both csn modes");
  for (const map of results.maps) {
    assert.match(await Deno.readTextFile(join(dir, "runs/paper/paper", map)), /<svg[\s\S]*<circle/);
    assert.ok(markdown.includes(`](${map})`), `${map} in results.md`);
  }

  const again = await runJson(dir, "pipeline", ["paper"]);
  assert.ok(again.stages.every((stage) => stage.status === "cached"), "all cached");
  const two = await runJson(dir, "pipeline", ["paper", "--set", "paper.seeds=2"]);
  const ran = two.stages.filter((stage) => stage.status === "ran").map((stage) => stage.name);
  assert.deepEqual(ran.filter((name) => name.startsWith("train")).sort(), [
    "train_csn_fixed-s2",
    "train_csn_learned-s2",
    "train_standard-s2",
    "train_task_specific-s2",
  ]);
  assert.deepEqual(ran.filter((name) => name.startsWith("probe")).sort(), [
    "probe_csn_fixed-s2",
    "probe_csn_learned-s2",
    "probe_standard-s2",
  ]);
  assert.ok(ran.includes("paper"));
  assert.ok(!ran.some((name) => name.endsWith("-s1")), "seed 1 stays cached");
  const rows = JSON.parse(await Deno.readTextFile(join(dir, "runs/paper/paper/results.json"))).rows;
  assert.deepEqual(rows.find((r: { label: string }) => r.label === "standard").seeds, [1, 2]);
  await removeTree(dir);
});

Deno.test("comparison maths: mean and sample spread, table layout, mask overlaps", () => {
  const s = stat([0.8, 0.9, 1.0]);
  assert.ok(Math.abs(s.mean - 0.9) < 1e-12);
  assert.ok(Math.abs(s.std - 0.1) < 1e-12);
  assert.equal(stat([0.5]).std, 0);
  const rows = tableRows([
    {
      label: "csn_fixed",
      seed: 1,
      test: { mode: "csn", accuracy: 0.8, per_condition: { a: 0.7 }, triplets: 10 },
    },
    {
      label: "csn_fixed",
      seed: 2,
      test: { mode: "csn", accuracy: 0.9, per_condition: { a: 0.9 }, triplets: 10 },
    },
    {
      label: "standard",
      seed: 1,
      test: { mode: "standard", accuracy: 0.6, per_condition: { a: 0.6 }, triplets: 10 },
    },
  ], ["standard", "csn_fixed"]);
  assert.deepEqual(rows.map((r) => r.label), ["standard", "csn_fixed"]);
  assert.equal(
    markdownTable(rows, ["a"]).split("\n")[3],
    "| csn_fixed | 2 | 85.0 ± 7.1 | 80.0 ± 14.1 |",
  );
  const masks = analyseMasks("csn_learned", 1, ["a", "b"], [[1, 0.5, 0.05, 0], [
    0,
    0.6,
    0.9,
    0.01,
  ]]);
  assert.deepEqual(masks.active, { a: 2, b: 2 });
  assert.equal(masks.overlaps.a!.b, 1);
  assert.equal(masks.overlaps.b!.a, 1);
});
