/**
 * A small real csn project for end-to-end tests: the repository's stages and library (linked),
 * and a pipeline "tiny" on three font families at 32x32 with a few thousand triplets.
 */
import { join } from "node:path";
import { REPO } from "./cli.ts";

export const TINY_PIPELINE = {
  name: "tiny",
  description: "three font families, 32x32, small triplet counts, a narrow network",
  stages: [
    { name: "fetch", params: { dataset: "fonts", families: ["roboto", "lato", "merriweather"] } },
    {
      name: "preprocess",
      inputs: { raw: "fetch.raw" },
      params: { size: 32, num_train: 2000, num_val: 400, num_test: 400 },
    },
    { name: "shard", inputs: { decoded: "preprocess.decoded" } },
    {
      name: "train",
      inputs: { shards: "shard.shards" },
      params: {
        preset: "small",
        width: 8,
        epochs: 2,
        batch_size: 32,
        lr: 0.002,
        num_train_triplets: 0,
        workers: 2,
        log_interval: 10,
        backend: "wasm",
      },
    },
    {
      name: "validate",
      inputs: { checkpoints: "train.checkpoints", shards: "shard.shards" },
      params: { backend: "wasm" },
    },
    {
      name: "test",
      inputs: { model: "validate.best", shards: "shard.shards" },
      params: { backend: "wasm" },
    },
  ],
};

/** Overrides for a tiny run that trains in seconds (one epoch of 320 triplets, one worker). */
export const QUICK_RUN: Record<string, Record<string, unknown>> = {
  fetch: { families: "roboto,lato,caveat" },
  preprocess: { num_train: 640, num_val: 160, num_test: 160 },
  train: { epochs: 1, lr: 0.001, num_train_triplets: 320, workers: 1 },
  validate: { workers: 1 },
  test: { retrieval: false, workers: 1 },
};

/** A temp project folder holding pipelines/tiny.json and links to the repository's code. */
export async function tinyProject(overrides: Record<string, Record<string, unknown>> = {}) {
  const dir = await Deno.makeTempDir({ prefix: "csn-tiny-" });
  for (const name of ["stages", "shared", "node_modules", "deno.lock"]) {
    await Deno.symlink(join(REPO, name), join(dir, name));
  }
  const manifest = structuredClone(TINY_PIPELINE);
  for (const stage of manifest.stages) {
    Object.assign(
      (stage as { params?: Record<string, unknown> }).params ??= {},
      overrides[stage.name] ?? {},
    );
  }
  await Deno.mkdir(join(dir, "pipelines"));
  await Deno.writeTextFile(join(dir, "pipelines", "tiny.json"), JSON.stringify(manifest, null, 2));
  return dir;
}

/** The tiny paper pipeline's budget: 47 batches of 32, inside the first of two epochs. */
export const TINY_BUDGET = "triplets:1500";

/**
 * The repository's paper pipeline on the tiny data: same stages and wiring, tiny data and
 * training params (one seed; a budget that cuts the first of two short epochs).
 */
export async function tinyPaperProject() {
  const dir = await tinyProject();
  const paper = JSON.parse(await Deno.readTextFile(join(REPO, "pipelines", "paper.json")));
  const tiny = Object.fromEntries(TINY_PIPELINE.stages.map((stage) => [stage.name, stage]));
  for (
    const stage of paper.stages as {
      name: string;
      uses?: string;
      params?: Record<string, unknown>;
    }[]
  ) {
    const uses = stage.uses ?? stage.name;
    if (["fetch", "preprocess", "shard"].includes(uses)) stage.params = tiny[uses]!.params;
    if (uses === "train") {
      stage.params = { ...stage.params, ...tiny.train!.params, epochs: 2, workers: 1 };
    }
    if (uses === "validate" || uses === "test") {
      stage.params = { ...stage.params, backend: "wasm", workers: 1 };
    }
    if (uses === "paper") stage.params = { ...stage.params, seeds: 1, budget: TINY_BUDGET };
    if (uses === "probe") {
      stage.params = { ...stage.params, backend: "wasm", workers: 1, map_points: 60 };
    }
  }
  await Deno.writeTextFile(join(dir, "pipelines", "paper.json"), JSON.stringify(paper, null, 2));
  return dir;
}

/** Removes a project folder at once (the store leaves artefacts read-only): for unload
 * handlers, which cannot await. */
export function removeTreeSync(path: string): void {
  const writable = (dir: string) => {
    Deno.chmodSync(dir, 0o755);
    for (const entry of Deno.readDirSync(dir)) {
      if (entry.isDirectory) writable(join(dir, entry.name));
    }
  };
  writable(path);
  Deno.removeSync(path, { recursive: true });
}
