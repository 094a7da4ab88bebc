/** The SLURM executor: sbatch scripts, and real runs on a one-node cluster against S3. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { clusterJobs } from "../shared/cluster/job_plan.ts";
import { parseScontrol } from "../shared/cluster/slurm_jobs.ts";
import { sbatchScript } from "../shared/cluster/slurm_script.ts";
import { parseManifest } from "../shared/pipeline/manifest.ts";
import { exists, removeTree } from "../shared/util/fs.ts";
import { cli, copyProject, runJson, statuses } from "./support/cli.ts";
import { startS3 } from "./support/s3_server.ts";
import { startSlurm } from "./support/slurm.ts";

Deno.test("sbatch scripts: arrays per seed, afterok edges, resources, partition", () => {
  const manifest = parseManifest({
    name: "p",
    seeds_from: "c.seeds",
    stages: [
      { name: "a" },
      {
        name: "b",
        per_seed: true,
        inputs: { x: "a.out" },
        resources: { cpus: 4, memory_gb: 2, gpus: 1 },
      },
      { name: "c", inputs: { y: "b.out" } },
    ],
  }, "p.json");
  const jobs = clusterJobs(manifest, 3, new Set(["b-s2", "b-s3", "c"]));
  assert.deepEqual(jobs.map((j) => [j.stage, j.seeds, j.after, j.afterEach]), [
    ["b", [2, 3], [], []],
    ["c", undefined, ["b"], []],
  ]);
  const chain = parseManifest({
    name: "q",
    seeds_from: "a.seeds",
    stages: [
      { name: "a" },
      { name: "t", per_seed: true, inputs: { x: "a.out" } },
      { name: "v", per_seed: true, inputs: { m: "t.out", x: "a.out" } },
      { name: "w", per_seed: true, inputs: { m: "t.out" } },
    ],
  }, "q.json");
  const linked = clusterJobs(chain, 2, new Set(["a", "t-s1", "t-s2", "v-s1", "v-s2", "w-s2"]));
  assert.deepEqual(linked.map((j) => [j.stage, j.after, j.afterEach]), [
    ["a", [], []],
    ["t", ["a"], []],
    ["v", ["a", "t"], ["t"]],
    ["w", ["t"], []], // other seeds than t's: waits for all of t
  ]);
  const perSeed = sbatchScript(linked[2]!, ["10"], {
    pipeline: "q",
    root: "/r",
    logDir: "/l",
    command: ["d"],
  }, ["11"]);
  assert.match(perSeed, /^#SBATCH --dependency=afterok:10,aftercorr:11$/m);
  const script = sbatchScript(jobs[0]!, [], {
    pipeline: "p",
    root: "/work/my project",
    logDir: "/work/my project/runs/p/slurm",
    command: ["/usr/bin/deno", "run", "stage_main.ts", "{instance}", "--with", 'a.text="it\'s"'],
    partition: "gpu",
  });
  assert.match(script, /^#SBATCH --array=2,3$/m);
  assert.match(script, /^#SBATCH --cpus-per-task=4$/m);
  assert.match(script, /^#SBATCH --mem=2048M$/m);
  assert.match(script, /^#SBATCH --gpus=1$/m);
  assert.match(script, /^#SBATCH --partition=gpu$/m);
  assert.match(script, /^#SBATCH --chdir='\/work\/my project'$/m);
  assert.match(script, /^#SBATCH --output='\/work\/my project\/runs\/p\/slurm\/b-%A_%a\.log'$/m);
  assert.match(script, /^instance=b-s"\$SLURM_ARRAY_TASK_ID"$/m);
  assert.match(
    script,
    /^exec \/usr\/bin\/deno run stage_main\.ts "\$instance" --with 'a\.text="it'\\''s"'$/m,
  );
  assert.doesNotMatch(script, /dependency/);
  const after = sbatchScript(jobs[1]!, ["17"], {
    ...{ pipeline: "p", root: "/r", logDir: "/l" },
    command: ["d"],
  });
  assert.match(after, /^#SBATCH --dependency=afterok:17$/m);
  assert.match(after, /^#SBATCH --output=\/l\/c-%j\.log$/m);
  assert.match(after, /^instance=c$/m);
  assert.deepEqual(
    parseScontrol(
      "JobId=5 ArrayJobId=4 ArrayTaskId=2 JobName=x JobState=FAILED Reason=NonZeroExitCode ExitCode=1:0\n" +
        "JobId=7 JobName=y JobState=PENDING Reason=Dependency ExitCode=0:0\n",
    ),
    [{ id: "4_2", state: "FAILED", exit: "1:0" }, { id: "7", state: "PENDING", exit: "0:0" }],
  );
});

Deno.test("a SLURM run against S3: jobs in order, one array per seeded stage, reruns submit only what changed", async () => {
  const [slurm, s3] = [await startSlurm(), await startS3()];
  const env = { ...slurm.env, ...s3.env, CSN_STORE: `s3://${s3.bucket}/slurm` };
  const [dir, local] = [
    await copyProject("tests/fixtures/pipeline_project"),
    await copyProject("tests/fixtures/pipeline_project"),
  ];
  try {
    const args = ["seeds", "--executor", "slurm", "--set", "collect.seeds=3"];
    const result = await cli(dir, "pipeline", [...args, "--json"], env);
    assert.equal(result.code, 0, result.stderr);
    const first = JSON.parse(result.stdout) as Awaited<ReturnType<typeof runJson>>;
    const names = ["source", "seeded-s1", "seeded-s2", "seeded-s3", "collect"];
    assert.deepEqual(statuses(first), Object.fromEntries(names.map((n) => [n, "ran"])));
    const jobOf = (name: string) =>
      /SLURM job (\d+)/.exec(first.stages.find((s) => s.name === name)!.reason)![1];
    assert.equal(jobOf("seeded-s1"), jobOf("seeded-s3"), "the seeds are one array job");
    assert.notEqual(jobOf("source"), jobOf("seeded-s1"));
    const seededScript = await Deno.readTextFile(join(dir, "runs/seeds/slurm/seeded.sbatch"));
    assert.match(seededScript, new RegExp(`--dependency=afterok:${jobOf("source")}$`, "m"));
    assert.match(seededScript, /--array=1,2,3$/m);
    const collectScript = await Deno.readTextFile(join(dir, "runs/seeds/slurm/collect.sbatch"));
    assert.match(collectScript, new RegExp(`--dependency=afterok:${jobOf("seeded-s1")}$`, "m"));
    assert.match(result.stderr, /\[seeded-\d+_2\] seeded-s2: running/, "job logs are streamed");
    // The same record and report as a local run.
    const reference = await runJson(local, "pipeline", ["seeds", "--set", "collect.seeds=3"]);
    assert.deepEqual(first.stages.map((s) => s.outputs), reference.stages.map((s) => s.outputs));
    assert.deepEqual(first.stages.at(-1)!.metrics, reference.stages.at(-1)!.metrics);
    const record = JSON.parse(await Deno.readTextFile(join(dir, "runs/seeds/record.json")));
    assert.deepEqual(Object.keys(record.stages).sort(), [...names].sort());

    const again = await cli(dir, "pipeline", [...args, "--json"], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /nothing to submit/);
    assert.ok(
      JSON.parse(again.stdout).stages.every((s: { status: string }) => s.status === "cached"),
    );

    const moreRun = await cli(dir, "pipeline", [
      "seeds",
      "--executor",
      "slurm",
      "--set",
      "collect.seeds=4",
      "--json",
    ], env);
    assert.equal(moreRun.code, 0, moreRun.stderr);
    const more = JSON.parse(moreRun.stdout) as Awaited<ReturnType<typeof runJson>>;
    // Only this invocation's jobs are streamed: the first run's logs (still in the folder) are
    // not replayed as if they were new.
    assert.match(moreRun.stderr, /\[seeded-\d+_4\] seeded-s4: running/);
    for (const old of [jobOf("source"), jobOf("seeded-s1"), jobOf("collect")]) {
      assert.doesNotMatch(moreRun.stderr, new RegExp(`\\[\\w+-${old}(_\\d+)?\\]`), `job ${old}`);
    }
    assert.deepEqual(statuses(more), {
      source: "cached",
      "seeded-s1": "cached",
      "seeded-s2": "cached",
      "seeded-s3": "cached",
      "seeded-s4": "ran",
      collect: "ran",
    });
    assert.match(
      await Deno.readTextFile(join(dir, "runs/seeds/slurm/seeded.sbatch")),
      /--array=4$/m,
    );
  } finally {
    await slurm.stop();
    await s3.stop();
    await removeTree(dir);
    await removeTree(local);
  }
});

Deno.test("a failed SLURM job fails the run with the job id, the stage and its log's end", async () => {
  const slurm = await startSlurm();
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    await Deno.writeTextFile(
      join(dir, "stages/boom.ts"),
      `import { z } from "zod";
export default {
  name: "boom", description: "fails", params: z.object({}), inputs: ["files"], outputs: ["out"],
  run() { throw new Error("kaboom: the disk is on fire"); },
};\n`,
    );
    await Deno.writeTextFile(
      join(dir, "pipelines/boom.json"),
      JSON.stringify({
        name: "boom",
        stages: [{ name: "source" }, { name: "boom", inputs: { files: "source.files" } }],
      }),
    );
    const dry = await runJson(
      dir,
      "pipeline",
      ["boom", "--executor", "slurm", "--dry-run"],
      slurm.env,
    );
    assert.deepEqual(statuses(dry), { source: "would-run", boom: "would-run" });
    assert.equal(await exists(join(dir, "runs/boom/slurm")), false, "nothing submitted");
    const result = await cli(dir, "pipeline", ["boom", "--executor", "slurm"], slurm.env);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /error: Cannot run stage "boom": SLURM job \d+ failed \(FAILED, exit code 1:0\)/,
    );
    assert.match(
      result.stderr,
      /the end of .*runs\/boom\/slurm\/boom-\d+\.log:\n(.|\n)*kaboom: the disk is on fire/,
    );
    const local = await runJson(dir, "status", ["boom"]);
    assert.deepEqual(statuses(local), { source: "cached", boom: "would-run" }, "source was built");
  } finally {
    await slurm.stop();
    await removeTree(dir);
  }
});

Deno.test("per-seed chains wait seed by seed (aftercorr) and still finish whole", async () => {
  const slurm = await startSlurm();
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    await Deno.writeTextFile(
      join(dir, "stages/again.ts"),
      `import { z } from "zod";
import { join } from "node:path";
export default {
  name: "again", description: "appends to its seed's file", params: z.object({}),
  inputs: ["prev"], outputs: ["out"],
  async run(ctx: { inputs: Record<string, { dir: string }>; outputs: Record<string, string> }) {
    const text = await Deno.readTextFile(join(ctx.inputs.prev!.dir, "seed.txt"));
    await Deno.writeTextFile(join(ctx.outputs.out!, "seed.txt"), text + "!");
  },
};\n`,
    );
    await Deno.writeTextFile(
      join(dir, "pipelines/chain.json"),
      JSON.stringify({
        name: "chain",
        seeds_from: "collect.seeds",
        stages: [
          { name: "source", params: { count: 1 } },
          { name: "seeded", per_seed: true, inputs: { files: "source.files" } },
          { name: "again", per_seed: true, inputs: { prev: "seeded.out" } },
          { name: "collect", inputs: { seeded: "again.out" }, params: { seeds: 2 } },
        ],
      }),
    );
    const result = await cli(
      dir,
      "pipeline",
      ["chain", "--executor", "slurm", "--json"],
      slurm.env,
    );
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as Awaited<ReturnType<typeof runJson>>;
    const jobOf = (name: string) =>
      /SLURM job (\d+)\)$/.exec(report.stages.find((s) => s.name === name)!.reason)![1];
    const script = await Deno.readTextFile(join(dir, "runs/chain/slurm/again.sbatch"));
    assert.match(script, new RegExp(`^#SBATCH --dependency=aftercorr:${jobOf("seeded-s1")}$`, "m"));
    assert.deepEqual(report.stages.at(-1)!.metrics, { "seeded-s1": "1 1!", "seeded-s2": "2 1!" });
  } finally {
    await slurm.stop();
    await removeTree(dir);
  }
});

Deno.test("a misspelt bucket fails before anything is submitted", async () => {
  const s3 = await startS3();
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    // No SLURM runs here: a submission would fail on sbatch, not on the bucket.
    const env = { ...s3.env, PATH: "/nonexistent", CSN_STORE: `s3://${s3.bucket}-typo/x` };
    const result = await cli(dir, "pipeline", ["demo", "--executor", "slurm"], env);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /Cannot submit SLURM jobs: the store s3:\/\/csn-test-typo\/x /);
    assert.match(result.stderr, /NoSuchBucket/);
    assert.doesNotMatch(result.stderr, /slurm: submitted|Cannot run sbatch/);
    assert.equal(await exists(join(dir, "runs/demo/slurm")), false, "no script written");
  } finally {
    await s3.stop();
    await removeTree(dir);
  }
});
