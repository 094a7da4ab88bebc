import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { checkThreshold } from "../shared/observe/check_threshold.ts";
import { parseCron } from "./support/cron.ts";
import { REPO } from "./support/cli.ts";

const cron = z.string().superRefine((value, ctx) => {
  try {
    parseCron(value);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
  }
});

const Step = z
  .strictObject({
    name: z.string().optional(),
    id: z.string().optional(),
    if: z.string().optional(),
    uses: z.string().regex(/^[\w.-]+\/[\w.-]+@[\w.-]+$/, "owner/action@ref").optional(),
    run: z.string().min(1).optional(),
    with: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    env: z.record(z.string(), z.string()).optional(),
  })
  .refine(
    (s) => (s.uses === undefined) !== (s.run === undefined),
    "each step has exactly one of uses or run",
  );

/** The parts of the GitHub Actions workflow syntax this workflow uses (a check of the file). */
const Workflow = z.strictObject({
  name: z.string(),
  on: z.strictObject({
    schedule: z.array(z.strictObject({ cron })).min(1),
    workflow_dispatch: z.union([z.null(), z.strictObject({})]),
  }),
  permissions: z.record(z.string(), z.enum(["read", "write", "none"])).optional(),
  concurrency: z.object({ group: z.string(), "cancel-in-progress": z.boolean() }).optional(),
  jobs: z.record(
    z.string().regex(/^[A-Za-z_][\w-]*$/),
    z.strictObject({
      "runs-on": z.union([z.string(), z.array(z.string()).min(1)]),
      container: z.string().optional(),
      "timeout-minutes": z.number().int().positive().optional(),
      steps: z.array(Step).min(1),
    }),
  ),
});

const WORKFLOW_FILE = join(REPO, ".github/workflows/scheduled-pipeline.yml");

Deno.test("the scheduled workflow parses and matches the workflow schema", async () => {
  const raw = parse(await Deno.readTextFile(WORKFLOW_FILE));
  const parsed = Workflow.safeParse(raw);
  assert.ok(parsed.success, parsed.success ? "" : JSON.stringify(parsed.error.issues, null, 2));
  const workflow = parsed.data;
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
  const runs = steps.flatMap((s) => (s.run ? [s.run] : []));
  const uses = steps.flatMap((s) => (s.uses ? [s.uses.split("@")[0]] : []));
  assert.deepEqual(uses, ["actions/checkout", "actions/cache", "actions/upload-artifact"]);
  const order = [
    "npm i -g deno@2.9.6",
    "deno install --frozen",
    "deno task pipeline full --force train --json > result.json",
    "deno run -A shared/cli/check_threshold_main.ts result.json ci/thresholds.json",
  ].map((command) => runs.indexOf(command));
  assert.ok(
    order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]!)),
    `steps in order: ${order}`,
  );
  const upload = steps.find((s) => s.uses?.startsWith("actions/upload-artifact"))!;
  assert.equal(upload.if, "always()");
  assert.match(String(upload.with?.path), /^runs\/$/m);
  // Every file a step names exists in the repository.
  for (
    const file of [
      "shared/cli/check_threshold_main.ts",
      "shared/cli/report_main.ts",
      "ci/thresholds.json",
    ]
  ) {
    assert.ok(runs.some((r) => r.includes(file)), file);
    await Deno.stat(join(REPO, file));
  }
  // YAML 1.1 would read the key `on` as true; make sure the parser did not.
  assert.ok("on" in (raw as object));
});

Deno.test("parseCron expands valid expressions and names what is wrong", () => {
  const range = (a: number, b: number, step = 1) =>
    Array.from({ length: Math.floor((b - a) / step) + 1 }, (_, i) => a + i * step);
  assert.deepEqual(parseCron("17 3 * * 1"), [[17], [3], range(1, 31), range(1, 12), [1]]);
  assert.deepEqual(parseCron("*/15 0-6/2 1,15 JAN-mar MON-FRI"), [
    [0, 15, 30, 45],
    [0, 2, 4, 6],
    [1, 15],
    [1, 2, 3],
    [1, 2, 3, 4, 5],
  ]);
  assert.deepEqual(parseCron("5/20 * * * sun,SAT")[0], [5, 25, 45]);
  assert.deepEqual(parseCron("5/20 * * * sun,SAT")[4], [0, 6]);
  const bad: Array<[string, RegExp]> = [
    ["0 3 * * 1 2024", /6 fields, expected 5/],
    ["60 * * * *", /minute "60" has 60, outside 0-59/],
    ["* 24 * * *", /hour "24" has 24, outside 0-23/],
    ["* * 0 * *", /day of month "0" has 0, outside 1-31/],
    ["* * * 13 *", /month "13" has 13, outside 1-12/],
    ["* * * * 7", /day of week "7" has 7, outside 0-6/],
    ["*/0 * * * *", /has a step of 0/],
    ["5-1 * * * *", /runs backwards/],
    ["a * * * *", /"a", which is not a number/],
    ["1,,2 * * * *", /malformed item ""/],
    ["* * * FOO *", /"FOO", which is not a number or a name/],
  ];
  for (const [expression, message] of bad) {
    assert.throws(() => parseCron(expression), message, expression);
  }
});

function result(stages: Array<{ name: string; uses?: string; metrics?: Record<string, unknown> }>) {
  return {
    pipeline: "full",
    run: "runs/full",
    stages: stages.map((s) => ({
      key: "k",
      status: "ran",
      reason: "",
      seconds: 1,
      outputs: {},
      metrics: {},
      ...s,
    })),
  };
}

const THRESHOLDS = { test_accuracy_min: 0.7 };

Deno.test("checkThreshold passes at or above the threshold and fails below it", () => {
  const pass = checkThreshold(
    result([{ name: "train" }, {
      name: "test",
      metrics: { accuracy: 0.7, per_condition: { heel: 0.65 } },
    }]),
    THRESHOLDS,
  );
  assert.equal(pass.ok, true);
  assert.match(
    pass.message,
    /^ok: test accuracy 0\.7000 of stage "test" of pipeline full \(runs\/full\) meets the threshold 0\.7 \[heel 0\.650\]$/,
  );
  const fail = checkThreshold(
    result([{ name: "eval", uses: "test", metrics: { accuracy: 0.6999 } }]),
    THRESHOLDS,
    {
      result: "r.json",
      thresholds: "ci/thresholds.json",
    },
  );
  assert.equal(fail.ok, false);
  assert.match(
    fail.message,
    /FAIL: test accuracy 0\.6999 of stage "eval" .* is below the threshold 0\.7 \(test_accuracy_min in "ci\/thresholds.json"\)/,
  );
  const none = checkThreshold(result([{ name: "fetch" }, { name: "train" }]), THRESHOLDS);
  assert.deepEqual(none.ok, false);
  assert.match(none.message, /has no test stage \(stages: fetch, train\)/);
  assert.match(
    checkThreshold(result([{ name: "test", metrics: { accuracy: "0.9" } }]), THRESHOLDS).message,
    /no metrics.accuracy between 0 and 1 \(got "0.9"\)/,
  );
  assert.match(
    checkThreshold(result([]), { test_accuracy_min: 2 }).message,
    /"thresholds.json" is not what was expected: test_accuracy_min:/,
  );
  assert.match(
    checkThreshold({ stages: [] }, THRESHOLDS).message,
    /"result.json" is not what was expected: pipeline:/,
  );
});

async function runCheck(
  dir: string,
  resultJson: string,
): Promise<{ code: number; stderr: string }> {
  const file = join(dir, "result.json");
  await Deno.writeTextFile(file, resultJson);
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-prompt",
      join(REPO, "shared/cli/check_threshold_main.ts"),
      file,
      join(REPO, "ci/thresholds.json"),
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("check_threshold_main.ts exits 1 with a clear message below ci/thresholds.json, 0 above", async () => {
  assert.deepEqual(JSON.parse(await Deno.readTextFile(join(REPO, "ci/thresholds.json"))), {
    test_accuracy_min: 0.7,
  });
  const dir = await Deno.makeTempDir({ prefix: "observe_ci_" });
  try {
    const low = await runCheck(
      dir,
      JSON.stringify(result([{ name: "test", metrics: { accuracy: 0.65 } }])),
    );
    assert.equal(low.code, 1);
    assert.match(low.stderr, /FAIL: test accuracy 0\.6500 .* below the threshold 0\.7/);
    const high = await runCheck(
      dir,
      JSON.stringify(result([{ name: "test", metrics: { accuracy: 0.874 } }])),
    );
    assert.equal(high.code, 0, high.stderr);
    const garbage = await runCheck(dir, "stage test ran\n{");
    assert.equal(garbage.code, 1);
    assert.match(garbage.stderr, /Cannot parse ".*result.json" as JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
