/**
 * The Argo Workflows export: typed, validated by @kubernetes-models/argo-workflows and checked
 * against the types of Argo's own published JSON schema (tests/support/argo_schema.ts); the
 * files that build and schedule the image (Dockerfile, the scheduled CI workflow).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { ArgoWorkflowSchema } from "./support/argo_schema.ts";
import { Workflow } from "@kubernetes-models/argo-workflows/argoproj.io/v1alpha1";
import { argoWorkflow } from "../shared/cluster/argo.ts";
import { clusterJobs } from "../shared/cluster/job_plan.ts";
import { parseManifest } from "../shared/pipeline/manifest.ts";
import { removeTree } from "../shared/util/fs.ts";
import { cli, copyProject, REPO } from "./support/cli.ts";

type Task = {
  name: string;
  template: string;
  dependencies: string[];
  withItems?: number[];
  arguments: unknown;
};

async function exported(cwd: string, args: string[]) {
  const result = await cli(cwd, "workflow", ["argo", ...args], { AWS_ENDPOINT_URL: "" });
  assert.equal(result.code, 0, result.stderr);
  const raw = parse(result.stdout);
  new Workflow(raw).validate(); // what came out is a valid Workflow, not just what went in
  const argo = ArgoWorkflowSchema.safeParse(raw);
  assert.ok(argo.success, `Argo's schema types: ${JSON.stringify(argo.error?.issues)}`);
  const tasks: Task[] = raw.spec.templates[0].dag.tasks;
  const seed = raw.spec.templates.find((t: { name: string }) => t.name === "seed");
  const seedTasks: Task[] = seed?.dag.tasks ?? [];
  return {
    raw,
    tasks,
    byName: Object.fromEntries(tasks.map((t) => [t.name, t])),
    seed,
    seedByName: Object.fromEntries(seedTasks.map((t) => [t.name, t])),
  };
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
  // Argo's IntOrString is a string in its schema; its examples quote it.
  assert.deepEqual(full.raw.spec.templates[1].retryStrategy, {
    limit: "2",
    retryPolicy: "Always",
    backoff: { duration: "30s", factor: "2" },
  });
  assert.equal(container.imagePullPolicy, "IfNotPresent", "csn:latest is not pulled by default");
  const always = await exported(REPO, ["full", "--store", "s3://b/p", "--pull-policy", "Always"]);
  assert.equal(always.raw.spec.templates[1].container.imagePullPolicy, "Always");
  const badPolicy = await cli(REPO, "workflow", [
    "argo",
    "full",
    "--store",
    "s3://b/p",
    "--pull-policy",
    "Sometimes",
  ]);
  assert.equal(badPolicy.code, 2);
  assert.match(
    badPolicy.stderr,
    /--pull-policy "Sometimes": expected Always, IfNotPresent or Never/,
  );

  // Per-seed stages run as one sub-DAG per seed: validate of seed 2 waits for train of seed 2
  // only, not for every seed's training.
  const paper = await exported(REPO, ["paper", "--store", "s3://b/p", "--set", "paper.seeds=3"]);
  assert.deepEqual(paper.tasks.map((t) => t.name), [
    "fetch",
    "preprocess",
    "shard",
    "raw-pixels",
    "seed",
    "paper",
  ]);
  const fanOut = paper.byName.seed!;
  assert.equal(fanOut.template, "seed");
  assert.deepEqual(fanOut.withItems, [1, 2, 3], "one sub-DAG per seed");
  assert.deepEqual(fanOut.arguments, { parameters: [{ name: "seed", value: "{{item}}" }] });
  assert.deepEqual(fanOut.dependencies, ["shard"]);
  assert.deepEqual(paper.seed.inputs, { parameters: [{ name: "seed" }] });
  const train = paper.seedByName["train-csn-learned"]!;
  assert.equal(train.withItems, undefined);
  assert.deepEqual(train.dependencies, []);
  assert.deepEqual(train.arguments, {
    parameters: [{ name: "instance", value: "train_csn_learned-s{{inputs.parameters.seed}}" }],
  });
  assert.deepEqual(paper.seedByName["validate-csn-learned"]!.dependencies, ["train-csn-learned"]);
  assert.deepEqual(paper.seedByName["test-csn-learned"]!.dependencies, ["validate-csn-learned"]);
  assert.equal(Object.keys(paper.seedByName).length, 15, "train, validate, test of four, probes");
  assert.deepEqual(paper.byName.paper!.dependencies, ["raw-pixels", "seed"]);
  const args: string[] = paper.raw.spec.templates.at(-1).container.args;
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
    assert.match(local.stderr, /--store s3:\/\/bucket\/prefix is required/);
    assert.doesNotMatch(local.stderr, /store ""/, "no empty value quoted back");
    const notShared = await cli(dir, "workflow", ["argo", "demo", "--store", "local"]);
    assert.equal(notShared.code, 2);
    assert.match(notShared.stderr, /store "local" is not shared/);
    const help = await cli(dir, "workflow", ["--help"]);
    assert.match(help.stdout, /--store.*required/);
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

Deno.test("the image and the scheduled workflow install oneDNN; CI caches data/ by its inputs", async () => {
  const dockerfile = await Deno.readTextFile(join(REPO, "Dockerfile"));
  const install = /apt-get install[^\n]*(?:\\\n[^\n]*)*/.exec(dockerfile)?.[0] ?? "";
  assert.match(install, /\blibdnnl2\b/, "jobs in the image train on the native backend");
  const ci = parse(
    await Deno.readTextFile(join(REPO, ".github/workflows/scheduled-pipeline.yml")),
  );
  type Step = { uses?: string; run?: string; with?: Record<string, string> };
  const steps: Step[] = ci.jobs.pipeline.steps;
  assert.ok(steps.some((s) => /libdnnl2/.test(s.run ?? "")), "the weekly run is not on wasm");
  const cache = steps.find((s) => s.uses?.startsWith("actions/cache@"));
  assert.ok(cache, "data/ is cached between runs");
  assert.equal(cache.with!.path!.trim(), "data/");
  for (const input of ["deno.lock", "stages/fetch.ts", "stages/preprocess.ts", "shared/data/"]) {
    assert.ok(cache.with!.key!.includes(input), `the cache key hashes ${input}`);
  }
  const cacheAt = steps.indexOf(cache);
  const pipelineAt = steps.findIndex((s) => /deno task pipeline full/.test(s.run ?? ""));
  assert.ok(cacheAt < pipelineAt, "restored before the pipeline runs");
  assert.match(steps[pipelineAt]!.run!, /--force train/, "a restored data/ still trains");
});

Deno.test("the README's Argo paragraph reads as written (not reflowed into a quote)", async () => {
  const readme = await Deno.readTextFile(join(REPO, "README.md"));
  const start = readme.indexOf("**Argo Workflows.**");
  assert.ok(start >= 0);
  const section = readme.slice(start, readme.indexOf("**Tests.**", start));
  assert.doesNotMatch(section, /^>/m, "no line turned into a block quote");
  assert.doesNotMatch(section, /[a-z]`[a-z]/i, "every code span is set off by spaces");
  assert.match(
    section,
    /```sh\ndeno task workflow argo paper --store s3:\/\/[^\n]+> paper\.yaml\n/,
  );
  assert.match(section, /--store[^.]*required/);
  assert.match(section, /imagePullPolicy/);
});
