/**
 * The repository's zappos-quick pipeline, unchanged but for --set lines that shrink it, run end
 * to end through the CLI on a fixture in the real UT Zappos50K + CSN triplets layout served from
 * a mirror folder: fetch, preprocess, shard, train, validate, test with retrieval metrics.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO, runJson, statuses, WASM_ONE_WORKER } from "./support/cli.ts";
import { buildFixture, writeRawDir } from "./zappos_fixture.ts";
import { removeTree } from "../shared/util/fs.ts";

const STAGES = ["fetch", "preprocess", "shard", "raw_pixels", "train", "validate", "test"];

/** A temp project that links the repository's stages, library and pipelines. */
async function repoProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "csn-zappos-" });
  for (const name of ["stages", "shared", "node_modules", "deno.lock", "pipelines"]) {
    await Deno.symlink(join(REPO, name), join(dir, name));
  }
  return dir;
}

/** Shrinks the quick pipeline to the fixture: tiny images, counts and network, one epoch. */
const SHRINK = [
  "preprocess.size=32",
  "preprocess.num_train=48",
  "preprocess.num_val=24",
  "preprocess.num_test=24",
  "preprocess.workers=1",
  "train.width=4",
  "train.batch_size=16",
  "train.epochs=2",
  "train.num_train_triplets=0",
  ...WASM_ONE_WORKER,
].flatMap((s) => ["--set", s]);

Deno.test("zappos-quick runs fetch to test on the real layout, with retrieval by category", async () => {
  const project = await repoProject();
  const fixture = buildFixture({ perCategory: 5, linesPerList: 12 });
  const mirror = await writeRawDir(fixture);
  try {
    const args = ["zappos-quick", "--set", `fetch.mirror=${mirror}`, ...SHRINK];
    const report = await runJson(project, "pipeline", args);
    assert.equal(report.pipeline, "zappos-quick");
    assert.deepEqual(report.stages.map((s) => s.name), STAGES);
    assert.deepEqual(Object.values(statuses(report)), Array(7).fill("ran"));
    const byName = Object.fromEntries(report.stages.map((s) => [s.name, s]));
    const pre = byName.preprocess!.metrics as { images: number; shape: number[] };
    assert.deepEqual(pre.shape, [32, 32, 3]);
    assert.ok(pre.images > 0 && pre.images <= fixture.filenames.length);
    const test = byName.test!.metrics as {
      accuracy: number;
      triplets: number;
      per_condition: Record<string, number>;
      retrieval: Record<string, { queries: number; gallery: number; precision_at_1: number }>;
    };
    assert.equal(test.triplets, 24);
    assert.ok(test.accuracy >= 0 && test.accuracy <= 1);
    assert.deepEqual(Object.keys(test.per_condition).sort(), [
      "class",
      "closure",
      "gender",
      "heel",
    ]);
    // Retrieval exists for the class notion only: its labels are the image's first folder.
    assert.deepEqual(Object.keys(test.retrieval), ["class"]);
    const retrieval = test.retrieval.class!;
    assert.ok(retrieval.queries > 0, "some test images share a category");
    assert.ok(retrieval.precision_at_1 >= 0 && retrieval.precision_at_1 <= 1);
    const validation = JSON.parse(
      await Deno.readTextFile(join(project, "runs/zappos-quick/validate/validation.json")),
    );
    assert.deepEqual(validation.curve.map((c: { epoch: number }) => c.epoch), [1, 2]);
    const testJson = JSON.parse(
      await Deno.readTextFile(join(project, "runs/zappos-quick/test/test.json")),
    );
    assert.equal(testJson.model, byName.validate!.outputs.best);
    // The shards carry the category names as the class notion's values.
    const index = JSON.parse(
      await Deno.readTextFile(
        join(project, "data/store/objects", byName.shard!.outputs.shards!, "files/index.json"),
      ),
    );
    const cls = index.notions.find((n: { name: string }) => n.name === "class");
    assert.deepEqual(cls.values, ["Boots", "Sandals", "Shoes", "Slippers"]);
  } finally {
    await removeTree(project);
    await removeTree(mirror);
  }
});

Deno.test("the zappos pipeline holds the paper's training settings", async () => {
  const manifest = JSON.parse(await Deno.readTextFile(join(REPO, "pipelines/zappos.json")));
  const stages = manifest.stages as { name: string; params?: Record<string, unknown> }[];
  assert.deepEqual(stages.map((s) => s.name), [...STAGES, "index"]);
  const params = (name: string) => stages.find((s) => s.name === name)!.params ?? {};
  assert.equal(params("preprocess").size, 112);
  assert.equal(params("preprocess").num_train, 100000);
  assert.deepEqual(params("train"), {
    preset: "paper",
    lr: 5e-5,
    batch_size: 256,
    epochs: 200,
    num_train_triplets: 100000,
  });
});
