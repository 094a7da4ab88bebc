/**
 * deno task export --run NAME --onnx FILE on a tiny trained fonts run, through the CLI with
 * the task's permissions: the file runs in onnxruntime-node on the run's test images, and
 * every embedding and masked embedding is within 1e-4 of csn's eval engine (the test stage's
 * loadCheckpoint + embedImages) on the same images.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { cli, runJson } from "./support/cli.ts";
import { QUICK_RUN, tinyProject } from "./support/tiny_project.ts";
import { openProject } from "../shared/pipeline/project.ts";
import { openShards } from "../shared/data/shards/reader.ts";
import { readNormalised } from "../shared/data/shards/images.ts";
import { conditionMap, splitImages } from "../shared/eval/split_images.ts";
import { embedImages, loadCheckpoint } from "../shared/eval/model_eval.ts";
import { resolveRunModel } from "../shared/explore/run_model.ts";
import type { OnnxExportResult } from "../shared/explore/export_onnx.ts";
import { maxAbsDiff, quiet } from "./support/tiny_model.ts";

const TOLERANCE = 1e-4;
const NOTIONS = ["character", "family", "weight", "slant"];

Deno.test("export --onnx: onnxruntime-node matches the eval engine on the run's test images", async () => {
  const dir = await tinyProject(QUICK_RUN);
  try {
    await runJson(dir, "pipeline", ["tiny"]);
    const file = join(dir, "out", "tiny.onnx");
    const result = await cli(dir, "export", ["--run", "tiny", "--onnx", file, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const exported: OnnxExportResult = JSON.parse(result.stdout);
    assert.equal(exported.file, file);
    assert.deepEqual(exported.notions, NOTIONS);
    assert.equal(exported.checkpoint.source, "validate.best");
    assert.deepEqual(exported.input.shape, ["N", 1, 32, 32]);
    assert.match(result.stderr, /export: .*tiny\.onnx .*opset 15/);

    const project = openProject(dir);
    const run = await resolveRunModel(project, "tiny");
    const shards = await openShards(run.shards.dir);
    const ids = splitImages(shards, "test", conditionMap(shards, NOTIONS)).ids.subarray(0, 24);
    const n = ids.length, d = 64, k = NOTIONS.length;
    const model = await loadCheckpoint(await Deno.readFile(run.checkpoint.file), "best", {
      workers: 0,
      backend: "auto",
      log: quiet,
    });
    let expected: Float32Array;
    try {
      [expected] = (await embedImages(model, shards, ids)) as [Float32Array];
    } finally {
      model.engine.close();
    }
    const reader = shards.records();
    const images = readNormalised(shards, reader, ids, exported.normalisation.mean, [
      ...exported.normalisation.std,
    ]);
    reader.close();

    // One channel: NHWC and NCHW hold the same bytes.
    const session = await ort.InferenceSession.create(file);
    const out = await session.run({ images: new ort.Tensor("float32", images, [n, 1, 32, 32]) });
    await session.release();
    const embedding = out.embedding!.data as Float32Array;
    assert.ok(maxAbsDiff(embedding, expected) < TOLERANCE, `${maxAbsDiff(embedding, expected)}`);
    const masked = out.masked!.data as Float32Array;
    assert.deepEqual(out.masked!.dims, [n, k, d]);
    const want = Float32Array.from(
      { length: n * k * d },
      (_, i) => expected[Math.floor(i / (k * d)) * d + (i % d)]! * model.masks[i % (k * d)]!,
    );
    assert.ok(maxAbsDiff(masked, want) < TOLERANCE, `masked: ${maxAbsDiff(masked, want)}`);
    assert.ok(expected.some((v) => Math.abs(v) > 1e-3), "the embeddings are not all zero");

    const refused = await cli(dir, "export", ["--run", "tiny", "--onnx", file, "--points", "9"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /Cannot export: --points does not apply to --onnx/);
  } finally {
    await makeWritable(dir);
    await Deno.remove(dir, { recursive: true });
  }
});

/** The store leaves artefacts read-only. */
async function makeWritable(dir: string): Promise<void> {
  await Deno.chmod(dir, 0o755);
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory && !entry.isSymlink) await makeWritable(join(dir, entry.name));
  }
}
