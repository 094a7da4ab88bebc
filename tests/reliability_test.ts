/** Damage and bad files met through the CLI: each is named and survived, nothing is left over. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, copyProject, REPO, runJson, statuses } from "./support/cli.ts";
import { removeTree } from "../shared/util/fs.ts";
import { CsnModel } from "../shared/model/csn.ts";
import { encodeCheckpoint } from "../shared/weights/checkpoint.ts";
import { decodeSafetensors, encodeSafetensors } from "../shared/weights/safetensors.ts";
import * as tf from "@tensorflow/tfjs";

Deno.test("a link placed inside a cached artefact is quarantined and the stage rebuilt", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    const first = await runJson(dir, "pipeline", ["demo"]);
    const id = first.stages[1]!.outputs.files!;
    const files = join(dir, "data/store/objects", id, "files");
    await Deno.chmod(files, 0o755);
    await Deno.symlink("/etc/hostname", join(files, "sneaky"));
    const status = await runJson(dir, "status", ["demo"]);
    assert.equal(statuses(status).upper, "would-run");
    assert.match(status.stages[1]!.reason, /cached result damaged: .*"sneaky" is not a plain file/);
    const again = await runJson(dir, "pipeline", ["demo"]);
    assert.deepEqual(statuses(again), { source: "cached", upper: "ran", summary: "cached" });
    assert.equal(again.stages[1]!.outputs.files, id, "rebuilt to the same content");
    const damaged = [...Deno.readDirSync(join(dir, "data/store/damaged"))].map((e) => e.name);
    assert.ok(damaged.some((name) => name.startsWith(id)), damaged.join());
  } finally {
    await removeTree(dir);
  }
});

/** A project linking the repository's stages, library and pipelines. */
async function repoProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "csn-rel-" });
  for (const name of ["stages", "shared", "node_modules", "deno.lock", "pipelines"]) {
    await Deno.symlink(join(REPO, name), join(dir, name));
  }
  return dir;
}

async function goodCheckpoint(): Promise<Uint8Array> {
  await tf.setBackend("cpu");
  const model = new CsnModel({
    mode: "csn",
    masks: "fixed",
    nConditions: 2,
    backbone: { inChannels: 1, inputSize: 16, width: 4, embedDim: 8 },
    seed: 1,
  });
  const bytes = await encodeCheckpoint(model, null, {
    epoch: 1,
    step: 1,
    rng: "{}",
    params: { condition_names: ["a", "b"] },
  });
  model.dispose();
  return bytes;
}

/** The checkpoint with one weight set to NaN (a diverged training). */
function withNaN(bytes: Uint8Array): Uint8Array {
  const file = decodeSafetensors(bytes);
  const tensors = new Map(file.tensors);
  const [name, tensor] = [...tensors].find(([n, t]) => t.dtype === "F32" && !n.startsWith("_"))!;
  const data = new Float32Array(tensor.data as Float32Array);
  data[data.length - 1] = NaN;
  tensors.set(name, { ...tensor, data });
  return encodeSafetensors(tensors, file.metadata);
}

/** The checkpoint with one tensor replaced by one of another shape. */
function reshaped(bytes: Uint8Array): Uint8Array {
  const file = decodeSafetensors(bytes);
  const tensors = new Map(file.tensors);
  const [name, tensor] = [...tensors].find(([, t]) => t.shape.length === 4)!;
  tensors.set(name, { dtype: "F32", shape: [1, 1, 1, 1], data: new Float32Array(1) });
  assert.notDeepEqual(tensor.shape, [1, 1, 1, 1]);
  return encodeSafetensors(tensors, file.metadata);
}

Deno.test("stage test --checkpoint FILE checks the file first and names it; nothing is stored", async () => {
  const dir = await repoProject();
  try {
    const good = await goodCheckpoint();
    const noise = new Uint8Array(4096).map((_, i) => (i * 7919) % 251);
    const bad: Record<string, [Uint8Array, RegExp]> = {
      "truncated.safetensors": [good.subarray(0, good.length - 100), /truncated|bytes|expected/i],
      "random.safetensors": [noise, /header|safetensors|JSON/i],
      "empty.safetensors": [new Uint8Array(0), /./],
      "shapes.safetensors": [reshaped(good), /shape/i],
      "nan.safetensors": [withNaN(good), /holds NaN .*diverged/],
    };
    for (const [name, [bytes, reason]] of Object.entries(bad)) {
      const file = join(dir, name);
      await Deno.writeFile(file, bytes);
      const result = await cli(dir, "stage", [
        "test",
        "--pipeline",
        "zappos",
        "--checkpoint",
        file,
      ]);
      assert.equal(result.code, 1, `${name}: ${result.stderr}`);
      assert.ok(
        result.stderr.includes(file),
        `${name}: the error names the given file\n${result.stderr}`,
      );
      assert.match(result.stderr, reason, name);
      assert.doesNotMatch(result.stderr, /data\/store/, `${name}: no store path`);
    }
    const objects = join(dir, "data/store/objects");
    const stored = await Deno.stat(objects).then(() => [...Deno.readDirSync(objects)], () => []);
    assert.deepEqual(stored, [], "no store object for a rejected file");
  } finally {
    await removeTree(dir);
  }
});
