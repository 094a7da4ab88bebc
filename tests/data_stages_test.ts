/**
 * The data stages called directly (as the runner would) with temp dirs:
 * fetch -> preprocess -> shard on three real font families with small triplet counts;
 * bad params (another dataset's among them) and a raw artefact without fetch.json give
 * clear errors; the dataset's facts reach the shard index.
 */
import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { readDecoded } from "../shared/data/decoded_io.ts";
import { openShards } from "../shared/data/shards/reader.ts";
import { tripletBatches } from "../shared/data/shards/batches.ts";
import type { StageContext, StageDefinition } from "../shared/stage/contract.ts";
import fetchStage from "../stages/fetch.ts";
import preprocessStage from "../stages/preprocess.ts";
import shardStage from "../stages/shard.ts";
import trainStage from "../stages/train.ts";
import { resolveParams } from "../shared/pipeline/params.ts";
import { zapposSpec } from "../shared/data/zappos/spec.ts";

/** Runs a stage like the runner: params through the schema, fresh output dirs. */
async function runStage(
  stage: StageDefinition,
  root: string,
  params: Record<string, unknown>,
  inputs: Record<string, string>,
) {
  const outputs = Object.fromEntries(stage.outputs.map((o) => [o, join(root, stage.name, o)]));
  for (const dir of Object.values(outputs)) await Deno.mkdir(dir, { recursive: true });
  const logs: string[] = [];
  const ctx: StageContext<unknown> = {
    name: stage.name,
    params: stage.params.parse(params),
    inputs: Object.fromEntries(
      Object.entries(inputs).map(([k, dir]) => [k, { id: `test-${k}`, dir }]),
    ),
    outputs,
    runDir: join(root, "run"),
    workDir: join(root, "work"),
    log: (m) => logs.push(m),
  };
  const result = await stage.run(ctx as never);
  return { outputs, result: result ?? {}, logs };
}

Deno.test("fetch -> preprocess -> shard on three font families", async () => {
  const root = await Deno.makeTempDir({ prefix: "csn_stages_" });
  try {
    const fetched = await runStage(fetchStage, root, {
      dataset: "fonts",
      families: "bangers,lato,eb-garamond",
    }, {});
    const raw = fetched.outputs.raw!;
    assert.deepEqual(JSON.parse(await readFile(join(raw, "fetch.json"), "utf8")), {
      format: "csn-raw/1",
      dataset: "fonts",
    });
    const sources = JSON.parse(await readFile(join(raw, "sources.json"), "utf8"));
    assert.equal(fetched.result.metrics?.families, 3);
    assert.equal(fetched.result.metrics?.files, sources.length);
    assert.ok(sources.length >= 3);

    const pre = await runStage(preprocessStage, root, {
      size: 32,
      num_train: 300,
      num_val: 60,
      num_test: 60,
      seed: 5,
    }, { raw });
    const decodedDir = pre.outputs.decoded!;
    const ds = await readDecoded(decodedDir);
    const m = pre.result.metrics as Record<string, unknown>;
    assert.equal(ds.dataset, "fonts");
    assert.equal(m.images, ds.names.length);
    assert.deepEqual(m.shape, [32, 32, 1]);
    assert.deepEqual(m.triplets, { train: 300, val: 60, test: 60 });
    assert.equal(ds.triplets.train.length, 300 * 4);
    assert.deepEqual(pre.result.publish, { decoded: ["report.json"] });
    assert.deepEqual(ds.notions.map((n) => n.name), ["character", "family", "weight", "slant"]);
    assert.deepEqual(ds.facts, { photos: false });
    await assert.rejects(
      runStage(preprocessStage, join(root, "wrong"), { conditions: "heel" }, { raw }),
      /^TypeError: Cannot preprocess dataset fonts: param 'conditions' is not a fonts param, expected one of size, num_train, num_val, num_test, seed$/,
    );

    const sharded = await runStage(shardStage, root, { records_per_shard: 500 }, {
      decoded: decodedDir,
    });
    const shards = await openShards(sharded.outputs.shards!, { verify: "full" });
    assert.equal(shards.count, ds.names.length);
    assert.deepEqual(shards.index.facts, { photos: false });
    assert.equal(shards.index.shards.length, Math.ceil(ds.names.length / 500));
    assert.equal(sharded.result.metrics?.images, ds.names.length);
    assert.deepEqual(shards.triplets, ds.triplets);
    assert.deepEqual(shards.labels, ds.labels);
    assert.deepEqual(await shards.names(), ds.names);
    // The shard files hold the decoded pixels byte for byte.
    const parts = await Promise.all(
      shards.index.shards.map((s) => readFile(join(sharded.outputs.shards!, s.file))),
    );
    assert.ok(Buffer.compare(Buffer.concat(parts), Buffer.from(ds.pixels)) === 0);
    // Glyph images normalise at read time: mean 0, std 1 -> x / 255 exactly.
    const seen = new Set<number>();
    for await (
      const b of tripletBatches(shards, {
        split: "val",
        batchSize: 25,
        seed: 0,
        epoch: 0,
        flip: false,
        mean: [0],
        std: [1],
      })
    ) {
      for (let i = 0; i < b.size; i++) {
        seen.add(b.indices[i]!);
        const a = ds.triplets.val[b.indices[i]! * 4]!;
        const px = 32 * 32;
        for (let k = 0; k < px; k += 97) {
          assert.ok(Math.abs(b.anchor[i * px + k]! - ds.pixels[a * px + k]! / 255) < 1e-6);
        }
      }
    }
    assert.equal(seen.size, 60);
  } finally {
    await rm(root, { recursive: true });
  }
});

Deno.test("fetch: an unknown dataset is a zod error naming the field and choices", () => {
  const r = fetchStage.params.safeParse({ dataset: "mnist" });
  assert.equal(r.success, false);
  const issue = r.error!.issues[0]!;
  assert.deepEqual(issue.path, ["dataset"]);
  assert.match(issue.message, /"fonts"\|"zappos"\|"shapes"/);
  assert.throws(
    () => fetchStage.params.parse({ dataset: "zappos", images_sha256: "abc" }),
    (e: Error) => e.message.includes("images_sha256") && e.message.includes("sha256"),
  );
});

Deno.test("fetch: each dataset gets its own params and defaults, and no other's", () => {
  // fonts records only what fonts reads: no zappos URLs in its params (or its cache key).
  assert.deepEqual(fetchStage.params.parse({}), { dataset: "fonts" });
  assert.deepEqual(fetchStage.params.parse({ families: "a, b" }), {
    dataset: "fonts",
    families: ["a", "b"],
  });
  const zappos = fetchStage.params.parse({ dataset: "zappos", retries: 0 }) as Record<
    string,
    unknown
  >;
  assert.match(String(zappos.images_url), /ut-zap50k-images\.zip$/);
  assert.match(String(zappos.triplets_url), /csn_zappos_triplets\.zip$/);
  assert.equal(zappos.retries, 0, "a given value wins over the default");
  assert.equal(zappos.download_dir, "data/downloads");
  assert.deepEqual(fetchStage.volatileParams, [
    "download_dir",
    "retries",
    "mirror",
    "dir",
    "labels",
    "triplets",
  ]);
  const wrong = fetchStage.params.safeParse({ dataset: "zappos", families: "roboto" });
  assert.equal(wrong.success, false);
  assert.deepEqual(wrong.error!.issues.map((i) => i.path), [["families"]]);
  assert.equal(
    wrong.error!.issues[0]!.message,
    "Cannot fetch dataset zappos: param 'families' is not a zappos param, expected one of " +
      "dataset, images_url, images_sha256, triplets_url, triplets_sha256, mirror, " +
      "download_dir, retries",
  );
  // Through the runner's resolution, as a manifest or --set would give it.
  assert.throws(
    () =>
      resolveParams(fetchStage, "fetch", [{
        source: "pipelines/x.json",
        values: { dataset: "fonts", images_url: "http://example.com/a.zip" },
      }]),
    /fetch\.images_url: Cannot fetch dataset fonts: param 'images_url' is not a fonts param, expected one of dataset, families/,
  );
  assert.deepEqual(fetchStage.params.parse({ dataset: "shapes" }), {
    dataset: "shapes",
    seed: 1,
    per_class: 24,
  });
});

Deno.test("preprocess: raw without fetch.json names the file", async () => {
  const root = await Deno.makeTempDir({ prefix: "csn_stages_" });
  try {
    await assert.rejects(
      runStage(preprocessStage, root, {}, { raw: root }),
      /Cannot read ".*fetch\.json": the artefact has no fetch\.json/,
    );
    await Deno.writeTextFile(join(root, "fetch.json"), '{"format":"csn-raw/1","dataset":"x"}');
    await assert.rejects(
      runStage(preprocessStage, root, {}, { raw: root }),
      /fetch\.json".*dataset/s,
    );
  } finally {
    await rm(root, { recursive: true });
  }
});

Deno.test("shard and preprocess params: defaults and bounds", () => {
  assert.equal(shardStage.params.parse({}).records_per_shard, 4096);
  assert.throws(() => shardStage.params.parse({ records_per_shard: 0 }), /records_per_shard/);
  // The common params have defaults; a dataset's own ones are filled in once raw says which.
  assert.deepEqual(preprocessStage.params.parse({}), {
    size: 64,
    num_train: 40000,
    num_val: 8000,
    num_test: 8000,
    seed: 1,
  });
  assert.deepEqual(preprocessStage.volatileParams, ["workers"]);
  assert.deepEqual(zapposSpec.preprocessParams.parse({}), {
    conditions: ["class", "closure", "gender", "heel"],
    max_bad_fraction: 0.01,
    workers: 2,
  });
  // Values are still checked when the pipeline is planned, before raw is known, against every
  // dataset that reads the name (images reads any column names as conditions).
  const bad = preprocessStage.params.safeParse({ max_bad_fraction: 2 });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error!.issues[0]!.path.slice(0, 1), ["max_bad_fraction"]);
  assert.equal(preprocessStage.params.safeParse({ conditions: "class,colour" }).success, true);
});

/** A tiny stand-in for the two Zappos archives, in a mirror folder (no network). */
async function zapposMirror(dir: string): Promise<number> {
  const { zipSync, strToU8 } = await import("fflate");
  const jpeg = (await import("jpeg-js")).default;
  const names: string[] = [];
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 12; i++) {
    const name = `Shoes/Oxfords/Brand ${i % 3}/${100 + i}.${i}.jpg`;
    names.push(name);
    const w = 20;
    const h = 15;
    const data = new Uint8Array(w * h * 4);
    for (let p = 0; p < w * h; p++) data.set([(i * 20) % 256, p % 256, 128, 255], p * 4);
    files[`ut-zap50k-images/${name}`] = i === 5
      ? strToU8("not a jpeg")
      : new Uint8Array(jpeg.encode({ data, width: w, height: h }, 90).data);
  }
  await Deno.writeFile(join(dir, "ut-zap50k-images.zip"), zipSync(files));
  const lists: Record<string, Uint8Array> = { "filenames.json": strToU8(names.join("\n") + "\n") };
  for (const c of ["class", "closure", "gender", "heel"]) {
    for (const split of ["train", "val", "test"]) {
      const lines = Array.from({ length: 6 }, (_, k) => `${k} ${(k + 1) % 12} ${(k + 6) % 12}`);
      lists[`tripletlists/${c}_tripletlist_${split}.txt`] = strToU8(lines.join("\n") + "\n");
    }
  }
  await Deno.writeFile(join(dir, "csn_zappos_triplets.zip"), zipSync(lists));
  return names.length;
}

Deno.test("fetch -> preprocess -> shard on a tiny Zappos-shaped mirror", async () => {
  const root = await Deno.makeTempDir({ prefix: "csn_stages_" });
  try {
    const mirror = join(root, "mirror");
    await Deno.mkdir(mirror);
    await zapposMirror(mirror);
    const fetched = await runStage(fetchStage, root, {
      dataset: "zappos",
      mirror,
      download_dir: join(root, "downloads"),
      retries: 0,
    }, {});
    const raw = fetched.outputs.raw!;
    assert.equal(JSON.parse(await readFile(join(raw, "fetch.json"), "utf8")).dataset, "zappos");
    const pre = await runStage(preprocessStage, root, {
      size: 16,
      conditions: "closure,heel",
      num_train: 8,
      num_val: 4,
      num_test: 4,
      max_bad_fraction: 0.2,
      workers: 1,
    }, { raw });
    const ds = await readDecoded(pre.outputs.decoded!);
    assert.equal(ds.channels, 3);
    assert.deepEqual(ds.notions.map((n) => n.name), ["closure", "heel"]);
    assert.ok(!ds.names.some((n) => n.includes("105.5")), "the unreadable image is left out");
    const m = pre.result.metrics as {
      dataset_params: Record<string, unknown>;
      triplets: Record<string, number>;
      report: Record<string, unknown>;
    };
    assert.deepEqual(m.dataset_params, {
      conditions: ["closure", "heel"],
      max_bad_fraction: 0.2,
      workers: 1,
    });
    // Image 5 is not a JPEG: it is counted, and the triplets using it are dropped.
    assert.equal(m.report.badImages, 1);
    assert.equal(ds.names.length, 11);
    const dropped = m.report.droppedTriplets as Record<string, number>;
    assert.equal(m.triplets.train! + dropped.train!, 8);
    const sharded = await runStage(shardStage, root, { records_per_shard: 4 }, {
      decoded: pre.outputs.decoded!,
    });
    const shards = await openShards(sharded.outputs.shards!, { verify: "full" });
    assert.deepEqual(shards.index.shape, [16, 16, 3]);
    // How preprocess decoded the files, for queries: zappos crops at the size it was given.
    assert.deepEqual(shards.index.facts, { photos: true, decode: { size: 16, fit: "crop" } });
    assert.equal(shards.count, ds.names.length);
    assert.deepEqual(shards.triplets, ds.triplets);
  } finally {
    await rm(root, { recursive: true });
  }
});

Deno.test("fetch -> preprocess -> shard -> 1 epoch of train on generated shapes", async () => {
  const root = await Deno.makeTempDir({ prefix: "csn_stages_" });
  try {
    const fetched = await runStage(fetchStage, root, { dataset: "shapes", per_class: 8 }, {});
    const raw = fetched.outputs.raw!;
    assert.equal(fetched.result.metrics?.images, 72);
    const again = await runStage(fetchStage, join(root, "again"), {
      dataset: "shapes",
      per_class: 8,
    }, {});
    assert.deepEqual(
      await readFile(join(again.outputs.raw!, "shapes.json")),
      await readFile(join(raw, "shapes.json")),
      "the same seed draws the same set",
    );
    const pre = await runStage(preprocessStage, root, {
      size: 16,
      num_train: 64,
      num_val: 16,
      num_test: 16,
    }, { raw });
    const ds = await readDecoded(pre.outputs.decoded!);
    assert.equal(ds.dataset, "shapes");
    assert.deepEqual(ds.facts, { photos: false });
    assert.deepEqual(ds.notions.map((n) => n.name), ["shape", "colour"]);
    assert.equal(ds.names.length, 72);
    assert.deepEqual(pre.result.metrics?.triplets, { train: 64, val: 16, test: 16 });
    assert.deepEqual(pre.result.metrics?.dataset_params, {});
    const sharded = await runStage(shardStage, root, { records_per_shard: 32 }, {
      decoded: pre.outputs.decoded!,
    });
    const shards = await openShards(sharded.outputs.shards!, { verify: "full" });
    assert.deepEqual(shards.index.shape, [16, 16, 3]);
    assert.deepEqual(shards.index.facts, { photos: false });
    assert.deepEqual(shards.labels, ds.labels);
    const trained = await runStage(trainStage, root, {
      width: 4,
      embed_dims: 8,
      epochs: 1,
      batch_size: 16,
      num_train_triplets: 0,
      workers: 0,
      backend: "cpu",
      flip: "auto", // decided by the index's facts: a shard set without them would fail here
    }, { shards: sharded.outputs.shards! });
    assert.equal(trained.result.metrics?.epochs, 1);
    assert.ok(Number.isFinite(trained.result.metrics?.train_loss as number));
  } finally {
    await rm(root, { recursive: true });
  }
});
