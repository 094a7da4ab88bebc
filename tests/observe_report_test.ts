import assert from "node:assert/strict";
import { join } from "node:path";
import { heatmapSvg, rampColor } from "../shared/charts/heatmap.js";
import { lineChartSvg, niceTicks, thin } from "../shared/charts/line_chart.js";
import { compareChartSpecs, MASK_PANELS, runChartSpecs } from "../shared/charts/run_charts.js";
import { testTableModel } from "../shared/charts/test_table.js";
import { syntheticRecords } from "../shared/observe/demo_writer.ts";
import type { MetricsRecord } from "../shared/artefacts/metrics_log.ts";
import { renderReport } from "../shared/observe/report_html.ts";
import { writeReport } from "../shared/observe/run_files.ts";
import { parseRunSummary } from "../shared/observe/run_summary.ts";

Deno.test("niceTicks: 1-2-5 steps that cover the data", () => {
  const cases: Array<[number, number]> = [
    [0, 1],
    [0.55, 0.91],
    [4.6e-5, 5e-5],
    [-3, 1234],
    [7, 7],
    [0, 0],
  ];
  for (const [min, max] of cases) {
    const t = niceTicks(min, max, 5);
    const mantissa = t.step / 10 ** Math.floor(Math.log10(t.step));
    assert.ok([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-9), `step ${t.step}`);
    assert.ok(t.min <= min && t.max >= max, `[${t.min}, ${t.max}] covers [${min}, ${max}]`);
    assert.ok(t.ticks.length >= 3 && t.ticks.length <= 12, `${t.ticks.length} ticks`);
    t.ticks.forEach((v, i) => assert.ok(Math.abs(v - (t.min + i * t.step)) < t.step * 1e-9));
  }
  // span 0.36 / 5 = 0.072 -> step 0.05; ends floor(0.55) and ceil(0.91) on that grid.
  assert.deepEqual(niceTicks(0.55, 0.91, 5).ticks, [
    0.55,
    0.6,
    0.65,
    0.7,
    0.75,
    0.8,
    0.85,
    0.9,
    0.95,
  ]);
});

Deno.test("lineChartSvg puts each point where a naive linear map says", () => {
  const points: Array<[number, number]> = [[0, 0.5], [10, 0.62], [25, 0.7], [40, 0.81]];
  const svg = lineChartSvg({
    title: "acc",
    series: [{ name: "overall", points }],
    width: 600,
    height: 300,
  });
  const d = svg.match(/<path class="line" d="([^"]+)"/)![1]!;
  const coords = d.split(/[ML]/).filter(Boolean).map((p) => p.split(" ").map(Number));
  // Plot box of a 600x300 chart with one series (no legend): x 72..584, y 258..30.
  const xs = niceTicks(0, 40, 6);
  const ys = niceTicks(0.5, 0.81, 5);
  points.forEach(([x, y], i) => {
    const px = 72 + ((x - xs.min) / (xs.max - xs.min)) * (584 - 72);
    const py = 258 - ((y - ys.min) / (ys.max - ys.min)) * (258 - 30);
    assert.ok(Math.abs(coords[i]![0]! - px) <= 0.05 + 1e-9, `x ${coords[i]![0]} vs ${px}`);
    assert.ok(Math.abs(coords[i]![1]! - py) <= 0.05 + 1e-9, `y ${coords[i]![1]} vs ${py}`);
  });
  assert.match(svg, /data-n="4"/);
  const empty = lineChartSvg({ title: "none", series: [{ name: "a", points: [] }] });
  assert.match(empty, /no data yet/);
  assert.ok(!empty.includes("<path"));
});

Deno.test("thin keeps at most max points, evenly, and always the last", () => {
  const points = Array.from({ length: 1001 }, (_, i): [number, number] => [i, i * i]);
  const out = thin(points, 100);
  assert.ok(out.length <= 101);
  assert.deepEqual(out[0], [0, 0]);
  assert.deepEqual(out.at(-1), [1000, 1e6]);
  assert.equal(thin(points.slice(0, 5), 100).length, 5);
});

Deno.test("heatmapSvg draws one cell per entry, coloured along the ramp", () => {
  const matrix = [[0, 0.5, 1], [1, 0, 0.25]];
  const svg = heatmapSvg({ title: "m", rowNames: ["a", "b"], matrix, min: 0, max: 1 });
  const fills = [...svg.matchAll(/<rect class="cell"[^>]* fill="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(fills.length, 6);
  assert.deepEqual(fills, matrix.flat().map(rampColor));
  assert.equal(rampColor(0), "rgb(68,1,84)");
  assert.equal(rampColor(1), "rgb(253,231,37)");
  assert.match(svg, /<title>b, dim 2: 0\.250<\/title>/);
});

const RECORD_JSON = {
  format: "csn-run/1",
  pipeline: "full",
  run: "demo",
  stages: {
    train: {
      uses: "train",
      seconds: 301.5,
      outputs: { checkpoint: "0123456789abcdef0123" },
      metrics: {},
    },
    test: {
      uses: "test",
      seconds: 4,
      outputs: {},
      metrics: {
        accuracy: 0.874,
        per_condition: { character: 0.98, family: 0.729 },
        triplets: 8000,
        retrieval: {
          character: {
            precision_at_1: 0.91,
            map_at_r: 0.5,
            recall_at_k: { "1": 0.91, "10": 0.99 },
          },
          family: { precision_at_1: 0.4, map_at_r: 0.2 },
        },
      },
    },
  },
};

Deno.test("testTableModel puts notions in rows and retrieval metrics in columns", () => {
  const model = testTableModel(RECORD_JSON.stages.test.metrics);
  assert.deepEqual(model.columns, [
    "accuracy",
    "precision_at_1",
    "map_at_r",
    "recall_at_k.1",
    "recall_at_k.10",
  ]);
  assert.deepEqual(model.rows.map(([name, values]) => [name, Object.fromEntries(values)]), [
    ["overall", { accuracy: 0.874 }],
    ["character", {
      accuracy: 0.98,
      precision_at_1: 0.91,
      map_at_r: 0.5,
      "recall_at_k.1": 0.91,
      "recall_at_k.10": 0.99,
    }],
    ["family", { accuracy: 0.729, precision_at_1: 0.4, map_at_r: 0.2 }],
  ]);
  assert.deepEqual(model.other, [["triplets", 8000]]);
  // Flat retrieval numbers belong to the overall row.
  const flat = testTableModel({ accuracy: 0.5, retrieval: { precision_at_1: 0.3 } });
  assert.deepEqual(Object.fromEntries(flat.rows[0]![1]), { accuracy: 0.5, precision_at_1: 0.3 });
});

Deno.test("renderReport: every chart, the masks per epoch, tables; self-contained", () => {
  const records = syntheticRecords({ epochs: 9, stepsPerEpoch: 5 });
  const html = renderReport({
    name: "demo",
    records,
    record: parseRunSummary(RECORD_JSON, "record.json"),
    params: { train: { lr: 0.001 } },
    generated: new Date("2025-01-01T00:00:00Z"),
  });
  for (
    const id of [
      "lr",
      "loss",
      "train_accuracy",
      "val_accuracy",
      "embed_norm",
      "mask_norm",
      "throughput",
      "masks",
    ]
  ) {
    assert.match(html, new RegExp(`data-chart="${id}"`), id);
  }
  const figure = (id: string) =>
    html.slice(html.indexOf(`data-chart="${id}"`)).split("</figure>")[0]!;
  // Overall plus one line per notion, each with every step (train) or epoch (val).
  const trainPaths = [
    ...figure("train_accuracy").matchAll(/data-series="([^"]+)" data-n="(\d+)"/g),
  ];
  assert.deepEqual(trainPaths.map((m) => [m[1], Number(m[2])]), [
    ["overall", 45],
    ["character", 45],
    ["family", 45],
    ["weight", 45],
    ["slant", 45],
  ]);
  assert.deepEqual(
    [...figure("val_accuracy").matchAll(/data-n="(\d+)"/g)].slice(1).map((m) => m[1]),
    ["9", "9", "9", "9", "9"],
  );
  // Masks: MASK_PANELS epochs spread from first to last, 4 x 64 cells each.
  const panels = [...figure("masks").matchAll(/<title>(epoch \d+) \(step \d+\)<\/title>/g)].map((
    m,
  ) => m[1]);
  assert.equal(panels.length, MASK_PANELS);
  assert.deepEqual([panels[0], panels.at(-1)], ["epoch 1", "epoch 9"]);
  assert.equal([...figure("masks").matchAll(/class="cell"/g)].length, MASK_PANELS * 4 * 64);
  // Test metrics from record.json (not the synthetic test line), with retrieval columns.
  assert.match(html, /<th scope="row">overall<\/th><td>0\.874<\/td>/);
  assert.match(
    html,
    /<th scope="row">character<\/th><td>0\.980<\/td><td>0\.910<\/td><td>0\.500<\/td>/,
  );
  assert.match(html, /<th>recall_at_k\.10<\/th>/);
  assert.match(
    html,
    /<th scope="row">train<\/th><td class="text">train<\/td><td>301\.500<\/td><td class="text">checkpoint <code>0123456789ab<\/code>/,
  );
  assert.match(html, /&quot;lr&quot;: 0\.001/);
  // Self-contained: no scripts, no external references.
  assert.ok(!/<script|<link|src=|href="http|url\(http/i.test(html));
});

Deno.test("renderReport escapes hostile names and falls back to the test line", () => {
  const evil = `<img src=x onerror=alert(1)>`;
  const records: MetricsRecord[] = syntheticRecords({
    epochs: 1,
    stepsPerEpoch: 2,
    conditions: [evil, "ok"],
  });
  const html = renderReport({ name: "x", records });
  assert.ok(!html.includes(evil), "raw markup from a metrics file must not reach the page");
  assert.ok(html.includes("&lt;img src=x onerror=alert(1)&gt;"));
  const test = records.at(-1)!;
  assert.equal(test.kind, "test");
  assert.match(
    html,
    new RegExp(`<th scope="row">overall</th><td>${test.accuracy!.toFixed(3)}</td>`),
  );
  assert.match(html, /No stage record/);
});

Deno.test("compareChartSpecs overlays runs, one chart per validation notion", () => {
  const a = syntheticRecords({ epochs: 2, stepsPerEpoch: 2, conditions: ["heel", "class"] });
  const b = syntheticRecords({ epochs: 3, stepsPerEpoch: 2, conditions: ["heel"], seed: 5 });
  const specs = compareChartSpecs([{ name: "a", records: a }, { name: "b", records: b }]);
  assert.deepEqual(specs.map((s) => s.id), [
    "lr",
    "loss",
    "train_accuracy",
    "val_accuracy",
    "embed_norm",
    "mask_norm",
    "val_accuracy_heel",
    "val_accuracy_class",
  ]);
  const heel = specs.find((s) => s.id === "val_accuracy_heel")!;
  assert.ok(heel.type === "line");
  assert.deepEqual(heel.series.map((s) => [s.name, s.points.length]), [["a", 2], ["b", 3]]);
  const single = runChartSpecs(a).find((s) => s.id === "loss")!;
  assert.ok(single.type === "line");
  assert.deepEqual(single.series[0]!.points.slice(0, 2).map((p) => p[0]), [1, 2]);
});

Deno.test("validation charts run over epochs and say so", () => {
  const records = syntheticRecords({ epochs: 3, stepsPerEpoch: 4, conditions: ["heel"] });
  const epochsOf = (spec: ReturnType<typeof runChartSpecs>[number] | undefined) => {
    assert.ok(spec?.type === "line");
    assert.equal(spec.xLabel, "epoch");
    return spec.series.map((s) => s.points.map((p) => p[0]));
  };
  assert.deepEqual(epochsOf(runChartSpecs(records).find((s) => s.id === "val_accuracy")), [
    [1, 2, 3],
    [1, 2, 3],
  ]);
  const compare = compareChartSpecs([{ name: "a", records }]);
  assert.deepEqual(epochsOf(compare.find((s) => s.id === "val_accuracy")), [[1, 2, 3]]);
  assert.deepEqual(epochsOf(compare.find((s) => s.id === "val_accuracy_heel")), [[1, 2, 3]]);
  const loss = runChartSpecs(records).find((s) => s.id === "loss");
  assert.ok(loss?.type === "line" && loss.xLabel === "step");
});

Deno.test("writeReport writes report.html; a bad record.json is named", async () => {
  const dir = join(await Deno.makeTempDir({ prefix: "observe_report_" }), "demo");
  try {
    await Deno.mkdir(dir);
    const empty = await Deno.readTextFile(await writeReport(dir));
    assert.match(empty, /<h1>Run demo<\/h1>/);
    assert.match(empty, /no data yet/);
    await Deno.writeTextFile(
      join(dir, "metrics.jsonl"),
      syntheticRecords().map((r) => JSON.stringify(r)).join("\n") + "\n",
    );
    await Deno.writeTextFile(join(dir, "record.json"), JSON.stringify(RECORD_JSON));
    const file = await writeReport(dir);
    assert.equal(file, join(dir, "report.html"));
    assert.match(await Deno.readTextFile(file), /0\.874/);
    await Deno.writeTextFile(join(dir, "record.json"), JSON.stringify({ pipeline: 3 }));
    await assert.rejects(
      writeReport(dir),
      /Cannot read run record ".*demo\/record.json": pipeline: Invalid input: expected string/,
    );
  } finally {
    await Deno.remove(join(dir, ".."), { recursive: true });
  }
});
