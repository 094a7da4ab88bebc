/** The Argo Workflows export: typed, validated by @kubernetes-models/argo-workflows. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { Workflow } from "@kubernetes-models/argo-workflows/argoproj.io/v1alpha1";
import { argoWorkflow } from "../shared/cluster/argo.ts";
import { clusterJobs } from "../shared/cluster/job_plan.ts";
import { parseManifest } from "../shared/pipeline/manifest.ts";
import { removeTree } from "../shared/util/fs.ts";
import { cli, copyProject, REPO } from "./support/cli.ts";

type Task = { name: string; dependencies: string[]; withItems?: number[]; arguments: unknown };

async function exported(cwd: string, args: string[]) {
  const result = await cli(cwd, "workflow", ["argo", ...args], { AWS_ENDPOINT_URL: "" });
  assert.equal(result.code, 0, result.stderr);
  const raw = parse(result.stdout);
  new Workflow(raw).validate(); // what came out is a valid Workflow, not just what went in
  const tasks: Task[] = raw.spec.templates[0].dag.tasks;
  return { raw, tasks, byName: Object.fromEntries(tasks.map((t) => [t.name, t])) };
}

Deno.test("the Argo workflows of full and paper validate, wired as the manifests say", async () => {
  const full = await exported(REPO, ["full", "--store", "s3://bucket/csn", "--image", "reg/csn:1"]);
  assert.deepEqual(full.tasks.map((t) => t.name), [
    "fetch",
    "preprocess",
    "shard",
    "raw-pixels",
    "train",
    "validate",
    "test",
    "index",
  ]);
  assert.deepEqual(full.byName.index!.dependencies, ["shard", "validate"]);
  assert.deepEqual(full.byName.test!.dependencies, ["shard", "validate"]);
  const container = full.raw.spec.templates[1].container;
  assert.equal(container.image, "reg/csn:1");
  assert.deepEqual(container.args.slice(0, 8), [
    "task",
    "stage",
    "{{inputs.parameters.instance}}",
    "--pipeline",
    "full",
    "--name",
    "full",
    "--job",
  ]);
  assert.deepEqual(container.env[0], { name: "CSN_STORE", value: "s3://bucket/csn" });
  assert.equal(container.env[1].valueFrom.secretKeyRef.key, "AWS_ACCESS_KEY_ID");
  assert.equal(full.raw.spec.templates[1].retryStrategy.limit, 2);

  const paper = await exported(REPO, ["paper", "--store", "s3://b/p", "--set", "paper.seeds=3"]);
  const train = paper.byName["train-csn-learned"]!;
  assert.deepEqual(train.withItems, [1, 2, 3], "per-seed stages fan out with withItems");
  assert.deepEqual(train.arguments, {
    parameters: [{ name: "instance", value: "train_csn_learned-s{{item}}" }],
  });
  assert.deepEqual(paper.byName["validate-csn-learned"]!.dependencies, [
    "shard",
    "train-csn-learned",
  ]);
  assert.equal(paper.byName.paper!.withItems, undefined);
  // raw pixels, test and validate of four modes, and three probes.
  assert.equal(paper.byName.paper!.dependencies.length, 12);
  const args: string[] = paper.raw.spec.templates[1].container.args;
  assert.deepEqual(args.slice(-2), ["--with", "paper.seeds=3"], "overrides reach every task");
});

Deno.test("manifest resources become requests; bad ones and a missing store are clear errors", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    const file = join(dir, "pipelines/demo.json");
    const manifest = JSON.parse(await Deno.readTextFile(file));
    manifest.stages[1].resources = { cpus: 4, memory_gb: 1.5, gpus: 1 };
    await Deno.writeTextFile(file, JSON.stringify(manifest));
    const { raw } = await exported(dir, ["demo", "--store", "s3://b/p"]);
    const upper = raw.spec.templates.find((t: { name: string }) => t.name === "stage-upper");
    assert.deepEqual(upper.container.resources, {
      requests: { cpu: "4", memory: "1536Mi" },
      limits: { "nvidia.com/gpu": "1" },
    });
    manifest.stages[1].resources = { cpus: "four" };
    await Deno.writeTextFile(file, JSON.stringify(manifest));
    const bad = await cli(dir, "workflow", ["argo", "demo", "--store", "s3://b/p"]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /Cannot read pipeline manifest .*demo\.json.*stages\.1\.resources\.cpus/,
    );
    const local = await cli(dir, "workflow", ["argo", "demo"], { CSN_STORE: "" });
    assert.equal(local.code, 2);
    assert.match(local.stderr, /Argo tasks need a shared store/);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("a wrong-typed field in the typed builder's output fails validation", () => {
  const manifest = parseManifest({
    name: "two",
    stages: [{ name: "a" }, { name: "b", inputs: { x: "a.out" } }],
  }, "two.json");
  const options = {
    pipeline: "two",
    run: "two",
    image: "csn:latest",
    store: "s3://b/p",
    secret: "csn-s3",
    overrides: {},
    retries: 1,
  };
  const workflow = argoWorkflow(clusterJobs(manifest, 0), options);
  assert.deepEqual(workflow.spec.templates![0]!.dag!.tasks![1]!.dependencies, ["a"]);
  const broken = structuredClone(workflow.toJSON()) as unknown as {
    spec: { templates: { retryStrategy?: { limit: unknown } }[] };
  };
  broken.spec.templates[1]!.retryStrategy!.limit = { many: true };
  assert.throws(() => new Workflow(broken as never).validate(), /limit/);
  // The builder validates what it builds: a number for the image is refused there.
  assert.throws(
    () => argoWorkflow(clusterJobs(manifest, 0), { ...options, image: 5 as never }),
    /image/,
  );
});
