/**
 * Datasets as adapters: the registry (every spec has its adapter, unknown names are errors),
 * param routing helpers, the code hash that keys fetch and preprocess (it must still count
 * every dataset's files), train's flip from the facts, the generated shapes dataset, and its
 * manifest through the CLI.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { defineSpec } from "../shared/data/adapter.ts";
import {
  datasetParamShape,
  foreignParams,
  ownParams,
  volatileParamsOf,
} from "../shared/data/dataset_params.ts";
import { DATASET_NAMES, DATASET_SPECS, datasetSpec, openDataset } from "../shared/data/registry.ts";
import { drawShape } from "../shared/data/shapes/draw.ts";
import { generateShapes } from "../shared/data/shapes/generate.ts";
import { COLOURS, SHAPES } from "../shared/data/shapes/spec.ts";
import { imagesSpec } from "../shared/data/images/spec.ts";
import { zapposSpec } from "../shared/data/zappos/spec.ts";
import { hashModuleGraph } from "../shared/pipeline/code_hash.ts";
import { flipOf } from "../shared/train/params.ts";
import { removeTree } from "../shared/util/fs.ts";
import { cli, runJson, statuses } from "./support/cli.ts";
import { tinyProject } from "./support/tiny_project.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));

Deno.test("registry: every spec has its adapter, built on it; unknown names are errors", async () => {
  assert.deepEqual(DATASET_NAMES, ["fonts", "zappos", "shapes", "images"]);
  for (const spec of DATASET_SPECS) {
    const adapter = await openDataset(spec.name, "test");
    assert.equal(adapter.name, spec.name);
    assert.equal(adapter.facts, spec.facts);
    assert.equal(adapter.preprocessParams, spec.preprocessParams);
    assert.equal(typeof adapter.fetch, "function");
    assert.equal(typeof adapter.load, "function");
  }
  assert.deepEqual(DATASET_SPECS.map((s) => s.facts.photos), [false, true, false, true]);
  assert.throws(
    () => datasetSpec("mnist", "fetch"),
    /^RangeError: Cannot fetch: unknown dataset "mnist"; expected one of fonts, zappos, shapes, images$/,
  );
  await assert.rejects(openDataset("mnist", "preprocess"), /Cannot preprocess: unknown dataset/);
});

Deno.test("dataset params: a name two datasets share is checked by each; own over defaults", () => {
  const a = defineSpec({
    name: "a",
    description: "",
    facts: { photos: false },
    fetchParams: z.object({ n: z.number().default(3), tag: z.string().optional() }),
    preprocessParams: z.object({}),
    notions: () => ["x"],
    volatileParams: { fetch: ["tag"] },
  });
  const b = { ...a, name: "b", fetchParams: z.object({ n: z.number().int().max(2) }) };
  assert.throws(
    () => datasetParamShape([a], "fetch", ["n"]),
    /param 'n' of dataset a is declared by the fetch stage too/,
  );
  const both = z.object(datasetParamShape([a, b], "fetch", []));
  assert.equal(both.safeParse({ n: 2.5 }).success, true, "a allows 2.5");
  assert.equal(both.safeParse({ n: "x" }).success, false, "neither allows a string");
  assert.deepEqual(ownParams(a, "fetch", { n: 2.5 }), { n: 2.5 });
  assert.throws(
    () => ownParams(b, "fetch", { n: 2.5 }),
    /^TypeError: Cannot fetch dataset b: param 'n' = 2\.5: /,
  );
  const shape = z.object(datasetParamShape([a], "fetch", []));
  assert.deepEqual(shape.parse({}), {}, "no defaults before the dataset is known");
  assert.equal(shape.safeParse({ n: "x" }).success, false, "values are still checked");
  assert.deepEqual(foreignParams(a, "fetch", ["dataset"], { dataset: "a", n: 1, m: 2 }), ["m"]);
  assert.deepEqual(ownParams(a, "fetch", { n: undefined, tag: "t", other: 1 }), { n: 3, tag: "t" });
  assert.deepEqual(volatileParamsOf([a, b], "fetch"), ["tag"]);
  // zappos and images share preprocess.conditions: each checks its own names.
  assert.throws(
    () => ownParams(zapposSpec, "preprocess", { conditions: ["shape"] }),
    /param 'conditions\.0' = \["shape"\]: unknown condition "shape", expected some of class, closure/,
  );
  assert.deepEqual(ownParams(imagesSpec, "preprocess", { conditions: "shape, hue" }).conditions, [
    "shape",
    "hue",
  ]);
});

Deno.test("code hash: fetch and preprocess keys count every dataset's files, shard's none", async () => {
  for (const stage of ["fetch", "preprocess"]) {
    const { files } = await hashModuleGraph(`${REPO}stages/${stage}.ts`, REPO);
    for (
      const file of [
        "shared/data/registry.ts",
        "shared/data/fonts/load.ts",
        "shared/data/fonts/render.ts",
        "shared/data/zappos/load.ts",
        "shared/data/decode/decode_worker.ts",
        "shared/data/shapes/draw.ts",
        "shared/data/images/load.ts",
      ]
    ) {
      assert.ok(file in files, `${stage}'s code hash lacks ${file}`);
    }
  }
  const shard = await hashModuleGraph(`${REPO}stages/shard.ts`, REPO);
  assert.ok(
    !Object.keys(shard.files).some((f) => /registry|fonts\/|zappos\/|shapes\/|images\//.test(f)),
    "the shard stage imports no dataset",
  );
});

Deno.test("flipOf: on and off as given; auto from facts.photos; no facts is an error", () => {
  const shards = (facts?: { photos: boolean }) => ({ dir: "/s", index: { facts } });
  assert.equal(flipOf("on", shards()), true);
  assert.equal(flipOf("off", shards({ photos: true })), false);
  assert.equal(flipOf("auto", shards({ photos: true })), true);
  assert.equal(flipOf("auto", shards({ photos: false })), false);
  assert.throws(
    () => flipOf("auto", shards()),
    /^TypeError: Cannot resolve train\.flip "auto": shard index "\/s\/index\.json" records no facts\.photos/,
  );
});

Deno.test("shapes: seeded descriptions, 9 classes, each painted as its kind", () => {
  const items = generateShapes(3, 5);
  assert.equal(items.length, SHAPES.length * COLOURS.length * 5);
  assert.deepEqual(generateShapes(3, 5), items);
  assert.notDeepEqual(generateShapes(4, 5), items);
  for (const item of items) {
    assert.ok(item.x - item.radius >= 0 && item.x + item.radius <= 1, "inside the image");
  }
  assert.throws(() => generateShapes(1, 0), /Cannot generate shapes: per_class is 0/);
  // Same place, size and colour: the circle covers most, then the square, then the triangle.
  const size = 32;
  const base = {
    colour: "red",
    x: 0.5,
    y: 0.5,
    radius: 0.4,
    angle: 0,
    shade: 1,
    background: 0,
  } as const;
  const cover = (shape: (typeof SHAPES)[number]) => {
    const px = drawShape({ ...base, shape }, size);
    let red = 0;
    for (let i = 0; i < px.length; i += 3) red += px[i]! / 230;
    return red / (size * size);
  };
  const [circle, square, triangle] = SHAPES.map(cover);
  // Areas relative to the image: pi r^2 = 0.503, (1.5 r)^2 = 0.36, 3 sqrt(3) / 4 r^2 = 0.208.
  assert.ok(Math.abs(circle! - 0.503) < 0.01, `circle ${circle}`);
  assert.ok(Math.abs(square! - 0.36) < 0.01, `square ${square}`);
  assert.ok(Math.abs(triangle! - 0.208) < 0.01, `triangle ${triangle}`);
  const centre = drawShape({ ...base, shape: "circle", colour: "blue" }, size);
  const o = (16 * size + 16) * 3;
  assert.deepEqual([...centre.subarray(o, o + 3)], [40, 90, 235]);
  assert.deepEqual([...centre.subarray(0, 3)], [0, 0, 0], "the corner is background");
});

Deno.test("pipelines/shapes.json runs to shard by the CLI; a fonts param is a usage error", async () => {
  const dir = await tinyProject();
  try {
    await Deno.copyFile(`${REPO}pipelines/shapes.json`, `${dir}/pipelines/shapes.json`);
    const shrink = ["fetch.per_class=8", "preprocess.size=16", "preprocess.num_train=64"]
      .concat(["preprocess.num_val=16", "preprocess.num_test=16"])
      .flatMap((s) => ["--set", s]);
    const report = await runJson(dir, "pipeline", ["shapes", "--until", "shard", ...shrink]);
    assert.deepEqual(statuses(report), { fetch: "ran", preprocess: "ran", shard: "ran" });
    const wrong = await cli(dir, "status", ["shapes", "--set", "fetch.families=roboto"]);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(
      wrong.stderr,
      /fetch\.families: Cannot fetch dataset shapes: param 'families' is not a shapes param, expected one of dataset, seed, per_class/,
    );
  } finally {
    await removeTree(dir);
  }
});
