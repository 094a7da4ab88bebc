/**
 * The must-show of the S3 store: the tiny fonts pipeline with every stage in its own process
 * and its own empty project folder ("machines" that share only the bucket) makes the same
 * output ids and test metrics as a local run.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { removeTree } from "../shared/util/fs.ts";
import { runJson, statuses } from "./support/cli.ts";
import { startS3 } from "./support/s3_server.ts";
import { TINY_PIPELINE, tinyProject } from "./support/tiny_project.ts";

const SMALL = {
  preprocess: { num_train: 600, num_val: 200, num_test: 200 },
  train: { epochs: 1, workers: 1 },
};

/** Stages whose outputs are a pure function of their params and inputs. */
const DATA = ["fetch", "preprocess", "shard"];

/** path -> sha256 of an artefact's files, but for the training log. */
async function weights(store: string, id: string): Promise<Record<string, string>> {
  const { files } = JSON.parse(await Deno.readTextFile(join(store, "objects", id, "listing.json")));
  const listed = files as { path: string; sha256: string }[];
  assert.ok(listed.some((file) => file.path.endsWith(".safetensors")), "checkpoints present");
  return Object.fromEntries(
    listed.filter((f) => f.path !== "train.json").map((f) => [f.path, f.sha256]),
  );
}

Deno.test("the tiny pipeline, one stage per machine against S3, matches the local run", async () => {
  const s3 = await startS3();
  const url = `s3://${s3.bucket}/tiny`;
  const local = await tinyProject(SMALL);
  const machines: string[] = [];
  const made: Record<string, Record<string, string>> = {};
  try {
    const reference = await runJson(local, "pipeline", ["tiny"]);
    for (const { name } of TINY_PIPELINE.stages) {
      const machine = await tinyProject(SMALL);
      machines.push(machine);
      const report = await runJson(machine, "stage", [name, "--pipeline", "tiny", "--store", url], {
        ...s3.env,
      });
      assert.deepEqual(statuses(report), { [name]: "ran" });
      const expected = reference.stages.find((stage) => stage.name === name)!;
      const got = report.stages[0]!;
      if (DATA.includes(name)) assert.deepEqual(got.outputs, expected.outputs, `${name}: same ids`);
      if (name === "train") {
        // train.json records wall-clock speed, so the artefact's id differs run to run; the
        // weights must not.
        assert.deepEqual(
          await weights(join(machine, "data/remote-cache"), got.outputs.checkpoints!),
          await weights(join(local, "data/store"), expected.outputs.checkpoints!),
        );
      } else assert.deepEqual(got.metrics, expected.metrics, `${name}: same metrics`);
      made[name] = got.outputs;
    }
    const last = await tinyProject(SMALL);
    machines.push(last);
    const all = await runJson(last, "pipeline", ["tiny", "--store", url], s3.env);
    assert.ok(
      all.stages.every((stage) => stage.status === "cached"),
      JSON.stringify(statuses(all)),
    );
    assert.deepEqual(all.stages.map((s) => s.outputs), all.stages.map((s) => made[s.name]));
    const test = all.stages.find((stage) => stage.name === "test")!;
    assert.deepEqual(test.metrics, reference.stages.find((s) => s.name === "test")!.metrics);
  } finally {
    await s3.stop();
    for (const dir of [local, ...machines]) await removeTree(dir);
  }
});
