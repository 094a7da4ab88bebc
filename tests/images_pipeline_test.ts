/**
 * The repository's images-quick pipeline, shrunk with --set, end to end through the CLI on a
 * folder the test writes (JPEG and PNG of odd sizes, EXIF-rotated, CMYK, grey, truncated) and
 * its CSV (two categorical notions, one numeric): fetch, preprocess, shard, the raw-pixel
 * floor, train, validate, test. The learnable notions (colour, size) end above the floor; the
 * random one (batch) stays at chance. A bad label file fails at fetch with nothing stored.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, repoProject, runJson, statuses, WASM_ONE_WORKER } from "./support/cli.ts";
import { writeImagesFixture } from "./support/images_fixture.ts";
import { removeTree } from "../shared/util/fs.ts";
import { floorComparison } from "../shared/cli/report.ts";
import { decode as decodePng } from "fast-png";
import { openProject } from "../shared/pipeline/project.ts";
import { readCatalogIndex } from "../shared/artefacts/catalog_index.ts";
import { openShards } from "../shared/data/shards/reader.ts";
import { startServe } from "./support/served_project.ts";

const STAGES = [
  "fetch",
  "preprocess",
  "shard",
  "raw_pixels",
  "train",
  "validate",
  "test",
  "index",
];

const SHRINK = [
  "preprocess.size=32",
  "preprocess.numeric=size",
  "preprocess.min_gap=10",
  "preprocess.num_train=2000",
  "preprocess.num_val=400",
  "preprocess.num_test=600",
  "preprocess.max_bad_fraction=0.01",
  "preprocess.test_fraction=0.2",
  "train.width=8",
  "train.batch_size=32",
  "train.lr=0.004",
  "train.micro_batch=32",
  "train.epochs=2",
  "train.num_train_triplets=0",
  ...WASM_ONE_WORKER,
  "index.backend=wasm",
  "index.workers=1",
].flatMap((s) => ["--set", s]);

interface TestMetrics {
  accuracy: number;
  per_condition: Record<string, number>;
  retrieval: Record<string, { queries: number; precision_at_1: number; map_at_r: number }>;
}

Deno.test("images-quick: a folder and a CSV in, per-notion test and retrieval out", async () => {
  const project = await repoProject("csn-images-run-");
  const fx = await writeImagesFixture(240);
  try {
    const data = ["--set", `fetch.dir=${fx.dir}`, "--set", `fetch.labels=${fx.labels}`];
    const report = await runJson(project, "pipeline", ["images-quick", ...data, ...SHRINK]);
    assert.deepEqual(report.stages.map((s) => s.name), STAGES);
    assert.deepEqual(Object.values(statuses(report)), Array(STAGES.length).fill("ran"));
    const byName = Object.fromEntries(report.stages.map((s) => [s.name, s]));
    const pre = byName.preprocess!.metrics as {
      images: number;
      notions: string[];
      report: { badImages: number };
    };
    assert.equal(pre.images, 239, "one truncated JPEG dropped, every other file decoded");
    assert.equal(pre.report.badImages, 1);
    assert.deepEqual(pre.notions, ["colour", "size", "batch"]);
    const floor = byName.raw_pixels!.metrics as { per_condition: Record<string, number> };
    const test = byName.test!.metrics as unknown as TestMetrics;
    const line = (n: string) =>
      `${n}: test ${test.per_condition[n]!.toFixed(3)}, floor ${
        floor.per_condition[n]!.toFixed(3)
      }`;
    console.error(["colour", "size", "batch"].map(line).join("; "));
    // Learnable notions beat the raw-pixel floor; the random notion stays near chance (600
    // test triplets, 200 per notion: a binomial standard error of about 0.03).
    assert.ok(test.per_condition.colour! > floor.per_condition.colour! + 0.1, line("colour"));
    assert.ok(test.per_condition.size! > floor.per_condition.size! + 0.1, line("size"));
    assert.ok(Math.abs(test.per_condition.batch! - 0.5) < 0.12, line("batch"));
    // Retrieval per categorical notion (the numeric one has no classes to retrieve).
    assert.deepEqual(Object.keys(test.retrieval).sort(), ["batch", "colour"]);
    assert.ok(test.retrieval.colour!.precision_at_1 > test.retrieval.batch!.precision_at_1);

    // The folder as a served catalog: each image with its labels, and the service on it.
    const store = openProject(project).store;
    const contents = await readCatalogIndex(await store.open(byName.index!.outputs.index!));
    const header = contents.header;
    // Preprocess recorded how it decoded the files; the shards carry it to queries.
    const shards = await openShards(await store.open(header.shards));
    assert.deepEqual(shards.index.facts, { photos: true, decode: { size: 32, fit: "crop" } });
    assert.equal(header.count, 239);
    assert.deepEqual(header.notions.map((n) => n.name), ["colour", "size", "batch"]);
    const row = fx.rows.find((r) => r.kind === "jpeg" && r.colour !== "")!;
    const id = header.items.findIndex((item) => item.path.endsWith(row.path));
    assert.ok(id >= 0, `${row.path} is in the index`);
    assert.equal(header.items[id]!.labels.colour, row.colour);
    assert.equal(header.items[id]!.labels.batch, row.batch);
    const server = await startServe(project, ["--run", "images-quick"]);
    try {
      const png = decodePng(
        new Uint8Array(await (await fetch(`${server.origin}/api/items/${id}/image`)).arrayBuffer()),
      );
      assert.deepEqual([png.width, png.height, png.channels], [32, 32, 3]);
      const upload = await fetch(`${server.origin}/api/similar?notion=colour&k=5`, {
        method: "POST",
        body: await Deno.readFile(join(fx.dir, row.path)),
      });
      const answer = await upload.json();
      assert.equal(upload.status, 200, JSON.stringify(answer));
      assert.equal(answer.neighbours.length, 5);
      assert.equal(answer.neighbours[0].labels.colour, row.colour);
      // The EXIF-rotated photo uploaded as it is: decoded as preprocess decoded it, the same
      // pixels, so the index's own embedding of it (the same wasm kernels: within 1e-4).
      const exif = fx.rows.find((r) => r.kind === "exif")!;
      const exifId = header.items.findIndex((item) => item.path.endsWith(exif.path));
      assert.ok(exifId >= 0, `${exif.path} is in the index`);
      const embedded = await fetch(`${server.origin}/api/embed`, {
        method: "POST",
        body: await Deno.readFile(join(fx.dir, exif.path)),
      });
      const { embedding } = await embedded.json() as { embedding: number[] };
      const d = header.d;
      const stored = contents.embeddings[0]!.subarray(exifId * d, (exifId + 1) * d);
      const gap = Math.max(...embedding.map((v, k) => Math.abs(v - stored[k]!)));
      assert.ok(gap < 1e-4, `upload vs index embedding of ${exif.path}: ${gap}`);
    } finally {
      server.child.kill("SIGTERM");
      assert.equal((await server.exit()).code, 0);
    }

    // A second run with the same folder and CSV is cached from fetch on.
    const again = await runJson(project, "pipeline", ["images-quick", ...data, ...SHRINK]);
    assert.deepEqual(Object.values(statuses(again)), Array(STAGES.length).fill("cached"));
    // The floor alone, on the shards the run recorded (no dataset params needed).
    const floorAgain = await runJson(project, "stage", [
      "raw_pixels",
      "--pipeline",
      "images-quick",
      "--force",
    ]);
    assert.deepEqual(statuses(floorAgain), { raw_pixels: "ran" });
    assert.deepEqual(floorAgain.stages[0]!.metrics.per_condition, floor.per_condition);
  } finally {
    await removeTree(project);
    await removeTree(fx.root);
  }
});

Deno.test("images-quick: a label file naming a missing image fails at fetch, storing nothing", async () => {
  const project = await repoProject("csn-images-run-");
  const fx = await writeImagesFixture(8);
  try {
    const bad = join(fx.root, "bad.csv");
    await Deno.writeTextFile(bad, "path,colour\nset 0/img_0.jpg,red\nnope.jpg,blue\n");
    const result = await cli(project, "pipeline", [
      "images-quick",
      "--until",
      "fetch",
      "--set",
      `fetch.dir=${fx.dir}`,
      "--set",
      `fetch.labels=${bad}`,
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /label file "bad\.csv": line 3, column 1 \("path"\): "nope\.jpg" is not an image in/,
    );
    const objects = join(project, "data/store/objects");
    const stored = await Array.fromAsync(Deno.readDir(objects)).catch((error) => {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    });
    assert.deepEqual(stored, [], "no artefact stored");
  } finally {
    await removeTree(project);
    await removeTree(fx.root);
  }
});

Deno.test("the pipeline summary sets each notion's test accuracy beside its raw-pixel floor", () => {
  const stages = [
    { name: "raw_pixels", metrics: { per_condition: { colour: 0.685, size: 0.7 } } },
    { name: "test", metrics: { per_condition: { colour: 0.86, size: 0.825, batch: 0.5 } } },
  ];
  assert.equal(
    floorComparison(stages),
    "per notion, test | raw-pixel floor: colour 0.860 | 0.685, size 0.825 | 0.700, batch 0.500 | -",
  );
  assert.equal(floorComparison(stages.slice(1)), undefined, "no floor in the run: no line");
});
