/**
 * The tiny fonts pipeline on a one-node SLURM cluster against S3: every stage a job, in
 * dependency order; a rerun submits nothing; a changed param submits only what it touches.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { removeTree } from "../shared/util/fs.ts";
import { cli, statuses } from "./support/cli.ts";
import { startS3 } from "./support/s3_server.ts";
import { startSlurm } from "./support/slurm.ts";
import { TINY_PIPELINE, tinyProject } from "./support/tiny_project.ts";

const SMALL = {
  preprocess: { num_train: 600, num_val: 200, num_test: 200 },
  train: { epochs: 1, workers: 1 },
};

type Report = { stages: { name: string; status: string; reason: string }[] };

Deno.test("the tiny pipeline as SLURM jobs against S3: ordered jobs, empty reruns, minimal resubmits", async () => {
  const [slurm, s3] = [await startSlurm(), await startS3()];
  const env = { ...slurm.env, ...s3.env };
  const dir = await tinyProject(SMALL);
  const run = async (...extra: string[]) => {
    const args = ["tiny", "--executor", "slurm", "--store", `s3://${s3.bucket}/tiny`, "--json"];
    const result = await cli(dir, "pipeline", [...args, ...extra], env);
    assert.equal(result.code, 0, result.stderr);
    return { report: JSON.parse(result.stdout) as Report, stderr: result.stderr };
  };
  try {
    const { report } = await run();
    const names = TINY_PIPELINE.stages.map((stage) => stage.name);
    assert.deepEqual(statuses(report), Object.fromEntries(names.map((n) => [n, "ran"])));
    const job = Object.fromEntries(
      report.stages.map((s) => [s.name, /SLURM job (\d+)\)$/.exec(s.reason)![1]!]),
    );
    assert.equal(new Set(Object.values(job)).size, names.length, "one job per stage");
    const script = (stage: string) =>
      Deno.readTextFile(join(dir, "runs/tiny/slurm", `${stage}.sbatch`));
    assert.doesNotMatch(await script("fetch"), /dependency/);
    assert.match(await script("train"), new RegExp(`afterok:${job.shard}$`, "m"));
    assert.match(await script("validate"), new RegExp(`afterok:${job.shard}:${job.train}$`, "m"));
    assert.match(await script("test"), new RegExp(`afterok:${job.shard}:${job.validate}$`, "m"));
    const record = JSON.parse(await Deno.readTextFile(join(dir, "runs/tiny/record.json")));
    assert.deepEqual(Object.keys(record.stages), names, "the run record of a local run");

    const again = await run();
    assert.match(again.stderr, /nothing to submit/);
    assert.ok(again.report.stages.every((s) => s.status === "cached"));

    const changed = await run("--set", "test.margin=0.3");
    assert.deepEqual(
      statuses(changed.report),
      Object.fromEntries(names.map((n) => [n, n === "test" ? "ran" : "cached"])),
    );
    assert.equal((changed.stderr.match(/slurm: submitted/g) ?? []).length, 1);
    assert.doesNotMatch(await script("test"), /dependency/, "its inputs were all cached");
  } finally {
    await slurm.stop();
    await s3.stop();
    await removeTree(dir);
  }
});
