/** The layer rules of the README's architecture section hold for the whole tree. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import {
  fileCircles,
  layerCircle,
  layerOf,
  layerViolations,
  MAY_IMPORT,
  readSources,
  relativeImports,
} from "./support/import_layers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

Deno.test("architecture: every import in shared/ and stages/ follows the layer rules", async () => {
  const files = await readSources(ROOT, ["shared", "stages"]);
  assert.ok(files.size > 200, `read only ${files.size} files`);
  const layers = new Set([...files.keys()].map(layerOf));
  for (const layer of layers) {
    assert.ok(layer !== undefined && layer in MAY_IMPORT, `layer ${layer} has no rule`);
  }
  assert.deepEqual(layerViolations(files), []);
  assert.equal(layerCircle(MAY_IMPORT), undefined);
  assert.deepEqual(fileCircles(files), []);
});

Deno.test("architecture: the checker sees every import form and reports what breaks a rule", () => {
  const model = [
    'import { Rng } from "../util/rng.ts";',
    'import { download } from "../net/download.ts";',
    'export { x } from "../engine/engine.ts";',
    'const m = await import("../store/store.ts");',
    '/** @typedef {import("../weights/dtype.ts").DType} DType */',
  ].join("\n");
  assert.deepEqual(relativeImports("shared/model/a.ts", model), [
    "shared/util/rng.ts",
    "shared/net/download.ts",
    "shared/engine/engine.ts",
    "shared/store/store.ts",
    "shared/weights/dtype.ts",
  ]);
  const found = layerViolations(
    new Map([
      ["shared/model/a.ts", model],
      ["stages/train.ts", 'import { x } from "./validate.ts";\nimport "../shared/cli/args.ts";'],
      ["shared/util/task_flags.ts", 'import config from "../../deno.json" with { type: "json" };'],
    ]),
  );
  assert.deepEqual(found.map((v) => `${v.file} -> ${v.imports}: ${v.rule}`), [
    "shared/model/a.ts -> shared/net/download.ts: model may not import net",
    "shared/model/a.ts -> shared/engine/engine.ts: model may not import engine",
    "shared/model/a.ts -> shared/store/store.ts: model may not import store",
    "shared/model/a.ts -> shared/weights/dtype.ts: model may not import weights",
    "stages/train.ts -> stages/validate.ts: a stage never imports another stage",
    "stages/train.ts -> shared/cli/args.ts: stages may not import cli",
  ]);
});

Deno.test("architecture: the checker catches an upward import, a layer circle and a file circle", () => {
  const upward = layerViolations(
    new Map([["shared/eval/model_eval.ts", 'import { x } from "../train/params.ts";']]),
  );
  assert.deepEqual(upward.map((v) => v.rule), ["eval may not import train"]);
  // The table as it was: train -> observe -> eval -> train.
  const table = { ...MAY_IMPORT, eval: [...MAY_IMPORT.eval!, "train"] };
  assert.deepEqual(layerCircle(table), ["eval", "train", "observe", "eval"]);
  const circles = fileCircles(
    new Map([
      ["shared/pipeline/runner.ts", 'import { executeStage } from "./execute.ts";'],
      ["shared/pipeline/execute.ts", 'import type { PlannedStage } from "./runner.ts";'],
      ["shared/pipeline/plan.ts", 'import { x } from "../util/closest.ts";'],
      ["shared/util/closest.ts", "export const x = 1;"],
      ["shared/util/self.ts", 'import "./self.ts";'],
    ]),
  );
  assert.deepEqual(circles, [
    ["shared/pipeline/execute.ts", "shared/pipeline/runner.ts"],
    ["shared/util/self.ts"],
  ]);
});
