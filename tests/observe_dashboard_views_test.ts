/** The dashboard's views: runs table, params side by side, smoothing, log y, CSV, filter. */
import assert from "node:assert/strict";
import { applyView, curveCsv, emaSmooth } from "../shared/charts/chart_view.js";
import { formatLogTicks, lineChartSvg } from "../shared/charts/line_chart.js";
import { chartsHtml } from "../shared/charts/run_charts.js";
import { rowMatches } from "../shared/charts/runs_filter.js";
import type { RunData } from "../shared/observe/dashboard/run_overview.ts";
import {
  flattenParams,
  paramsCompareHtml,
  runMetrics,
  runsTableHtml,
} from "../shared/observe/dashboard/runs_table.ts";

Deno.test("emaSmooth equals a naive debiased EMA; weight 0 leaves points alone", () => {
  const points: Array<[number, number]> = [[1, 4], [2, 2], [3, 8], [4, 1], [5, 5]];
  const w = 0.6;
  // Naive: the weighted mean of all values so far, weights w^(t-i) normalised.
  const naive = points.map(([x], t) => {
    let num = 0;
    let den = 0;
    for (let i = 0; i <= t; i++) {
      num += (1 - w) * w ** (t - i) * points[i]![1];
      den += (1 - w) * w ** (t - i);
    }
    return [x, num / den];
  });
  const smooth = emaSmooth(points, w);
  smooth.forEach(([x, y], i) => {
    assert.equal(x, naive[i]![0]);
    assert.ok(Math.abs(y - naive[i]![1]!) < 1e-12, `point ${i}: ${y} vs ${naive[i]![1]}`);
  });
  assert.equal(smooth[0]![1], 4, "the first point is not pulled towards 0");
  assert.deepEqual(emaSmooth(points, 0), points);
});

Deno.test("curveCsv lists every point (quoted names); charts link it; log y draws log10", () => {
  const spec = {
    id: "loss",
    type: "line" as const,
    title: "Loss",
    xLabel: "step",
    yLabel: "loss",
    series: [{ name: 'a,"b"', points: [[1, 10], [2, 1]] as Array<[number, number]> }, {
      name: "c",
      points: [[1, 100]] as Array<[number, number]>,
    }],
  };
  assert.equal(curveCsv(spec), 'series,step,value\n"a,""b""",1,10\n"a,""b""",2,1\nc,1,100\n');
  assert.equal(curveCsv(spec, 0.5).split("\n")[2], '"a,""b""",2,1,4');
  const html = chartsHtml([spec], { smoothing: 0.5 });
  const href = /href="data:text\/csv;charset=utf-8,([^"]*)"/.exec(html)![1]!;
  assert.equal(decodeURIComponent(href), curveCsv(spec, 0.5));
  assert.match(html, /download="loss.csv"/);
  // Log y: 10 and 1 are one decade apart, so the line spans the plot's full height.
  const [viewed] = applyView([spec], { logY: true });
  const svg = lineChartSvg(
    { ...viewed!, series: [spec.series[0]!] } as Parameters<
      typeof lineChartSvg
    >[0],
  );
  assert.match(svg, /data-log-y="1"/);
  assert.match(svg, />1</);
  assert.match(svg, />10</);
  assert.deepEqual(formatLogTicks([-4, -3.5, -3]), ["0.0001", "0.00032", "0.001"]);
  assert.deepEqual(
    formatLogTicks([Math.log10(9.7e-4), Math.log10(9.75e-4), Math.log10(9.8e-4)]),
    ["0.00097", "0.000975", "0.00098"],
  );
  const linear = lineChartSvg({ ...spec, series: [{ name: "x", points: [[1, 0], [2, 5]] }] });
  const logged = lineChartSvg({
    ...spec,
    logY: true,
    series: [{ name: "x", points: [[1, 0], [2, 5]] }],
  });
  assert.match(linear, /data-n="2"/);
  assert.match(logged, /data-n="1"/, "0 has no place on a log axis");
});

function run(name: string, params: unknown, accuracy: number, val: number[]): RunData {
  return {
    name,
    params,
    problems: [],
    record: {
      pipeline: "full",
      stages: { test: { metrics: { accuracy, per_condition: { heel: accuracy - 0.1 } } } },
    },
    records: val.map((a, i) => ({
      time: "2025-01-01T00:00:00Z",
      kind: "val" as const,
      series: "train",
      epoch: i + 1,
      step: i + 1,
      accuracy: a,
    })),
  };
}

Deno.test("runs table: params x metrics, constant params marked; compare shows params side by side", () => {
  const runs = [
    run("csn", { train: { lr: 5e-5, mode: "csn", epochs: 2 } }, 0.8, [0.6, 0.7]),
    run("<b>", { train: { lr: 1e-4, mode: "standard", epochs: 2 } }, 0.7, []),
  ];
  assert.deepEqual(flattenParams({ a: { b: 1, c: [1, 2] }, d: null }), {
    "a.b": 1,
    "a.c": "[1,2]",
    d: "null",
  });
  assert.deepEqual(runMetrics(runs[0]!), {
    "test.accuracy": 0.8,
    "test.accuracy.heel": 0.8 - 0.1,
    "val.best_accuracy": 0.7,
  });
  const html = runsTableHtml(runs);
  const headers = [...html.matchAll(/data-key="([^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(headers, [
    "run",
    "pipeline",
    "updated",
    "test.accuracy",
    "test.accuracy.heel",
    "val.best_accuracy",
    "train.epochs",
    "train.lr",
    "train.mode",
  ]);
  assert.match(html, /<th class="param constant" data-key="train.epochs">/);
  assert.match(html, /<th class="param" data-key="train.lr">/);
  assert.match(html, /<td data-value="0.00005">5\.00e-5<\/td>/);
  assert.match(html, /<td data-value="">–<\/td>/, "no validation lines: a blank cell");
  assert.ok(!html.includes("<b>"), "names are escaped");
  const params = paramsCompareHtml(runs);
  assert.match(params, /<tr data-key="train.lr" class="differs">/);
  assert.match(
    params,
    /<tr data-key="train.epochs"><th scope="row">train.epochs<\/th><td data-value="2">2<\/td><td data-value="2">2<\/td><\/tr>/,
  );
  assert.match(params, /<th>&lt;b&gt;<\/th>/);
});

Deno.test("runs filter: substrings, key=value, key>number, all terms must hold", () => {
  const values = {
    "train.lr": "0.00005",
    "train.mode": "csn",
    "test.accuracy": "0.8",
    pipeline: "",
  };
  const text = "csn full 0.800";
  assert.ok(rowMatches("", values, text));
  assert.ok(rowMatches("CSN", values, text));
  assert.ok(rowMatches("train.mode=csn test.accuracy>0.75", values, text));
  assert.ok(!rowMatches("train.mode=csn test.accuracy>0.85", values, text));
  assert.ok(rowMatches("train.lr=5e-5", values, text), "numbers compare as numbers");
  assert.ok(rowMatches("train.lr<0.001", values, text));
  assert.ok(!rowMatches("pipeline>1", values, text), "a blank cell matches no comparison");
  assert.ok(!rowMatches("standard", values, text));
  assert.ok(!rowMatches("nokey=1", values, text), "an unknown key is a plain substring");
});
