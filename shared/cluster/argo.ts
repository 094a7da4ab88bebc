/**
 * An Argo Workflows `Workflow` for a pipeline: a `dag` with one task per stage run once, and
 * one sub-DAG per seed (template `seed`, fanned out with `withItems`) holding the per-seed
 * stages, so seed 2's validation waits for seed 2's training only (SLURM's `aftercorr`). Each
 * task runs `deno task stage ... --job` in the project's image against an S3 store, with
 * retries and the manifest's resource requests. Built from the typed models of
 * @kubernetes-models/argo-workflows and validated by them; the fields Argo's own JSON schema
 * types as IntOrString (retry limit, backoff factor) are written as strings, as its examples do.
 */
import {
  type IDAGTask,
  type ITemplate,
  Workflow,
} from "@kubernetes-models/argo-workflows/argoproj.io/v1alpha1";
import type { ParamValues } from "../pipeline/params.ts";
import { type ClusterJob, stageArgs } from "./job_plan.ts";

/** Kubernetes' image pull policies. */
export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

export interface ArgoOptions {
  readonly pipeline: string;
  readonly run: string;
  readonly image: string;
  /** Default IfNotPresent: an image built on the nodes (csn:latest) is not pulled. */
  readonly pullPolicy?: PullPolicy;
  /** s3://bucket/prefix every task reads and writes. */
  readonly store: string;
  /** The Kubernetes secret holding AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. */
  readonly secret: string;
  /** AWS_ENDPOINT_URL and AWS_REGION as the tasks should see them (when set). */
  readonly endpoint?: string;
  readonly region?: string;
  readonly overrides: Readonly<Record<string, ParamValues>>;
  readonly retries: number;
}

/** The per-seed sub-DAG's template and task name. */
export const SEED_TEMPLATE = "seed";

/** Argo names are DNS labels: lowercase letters, digits and "-". */
export function argoName(name: string): string {
  return name.replaceAll("_", "-");
}

function stageTemplate(job: ClusterJob, options: ArgoOptions): ITemplate {
  const env = [
    { name: "CSN_STORE", value: options.store },
    ...(options.endpoint ? [{ name: "AWS_ENDPOINT_URL", value: options.endpoint }] : []),
    ...(options.region ? [{ name: "AWS_REGION", value: options.region }] : []),
    ...["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].map((name) => ({
      name,
      valueFrom: { secretKeyRef: { name: options.secret, key: name } },
    })),
  ];
  const { cpus, memory_gb: memory, gpus } = job.resources;
  const requests: Record<string, string> = {};
  if (cpus) requests.cpu = String(cpus);
  if (memory) requests.memory = `${Math.ceil(memory * 1024)}Mi`;
  const limits: Record<string, string> = gpus ? { "nvidia.com/gpu": String(gpus) } : {};
  return {
    name: `stage-${argoName(job.stage)}`,
    inputs: { parameters: [{ name: "instance" }] },
    retryStrategy: {
      limit: String(options.retries),
      retryPolicy: "Always",
      backoff: { duration: "30s", factor: "2" },
    },
    container: {
      name: "stage",
      image: options.image,
      imagePullPolicy: options.pullPolicy ?? "IfNotPresent",
      command: ["deno"],
      args: [
        "task",
        "stage",
        ...stageArgs("{{inputs.parameters.instance}}", options.pipeline, options.run, {
          ...options.overrides,
        }),
      ],
      env,
      resources: {
        ...(Object.keys(requests).length ? { requests } : {}),
        ...(gpus ? { limits } : {}),
      },
    },
  };
}

function task(name: string, template: string, after: readonly string[], instance: string) {
  return {
    name,
    template,
    dependencies: [...after],
    arguments: { parameters: [{ name: "instance", value: instance }] },
  } satisfies IDAGTask;
}

export function argoWorkflow(jobs: readonly ClusterJob[], options: ArgoOptions): Workflow {
  const perSeed = jobs.filter((job) => job.seeds !== undefined);
  const seedNames = new Set(perSeed.map((job) => job.stage));
  const seeds = perSeed[0]?.seeds;
  for (const job of perSeed) {
    if (job.seeds!.join(",") !== seeds!.join(",")) {
      throw new RangeError(
        `Cannot write an Argo workflow: per-seed stage "${job.stage}" runs seeds ` +
          `${job.seeds!.join(",")}, "${perSeed[0]!.stage}" runs ${seeds!.join(",")}; one ` +
          "sub-DAG per seed needs the same seeds for all",
      );
    }
  }
  // Inside a seed's sub-DAG a task waits for its own seed's stages; the sub-DAG as a whole
  // waits for the once-run stages any of them reads.
  const seedTasks = perSeed.map((job) =>
    task(
      argoName(job.stage),
      `stage-${argoName(job.stage)}`,
      job.after.filter((stage) => seedNames.has(stage)).map(argoName),
      `${job.stage}-s{{inputs.parameters.seed}}`,
    )
  );
  const seedAfter = [
    ...new Set(perSeed.flatMap((job) => job.after.filter((stage) => !seedNames.has(stage)))),
  ].map(argoName);
  const tasks: IDAGTask[] = [];
  for (const job of jobs) {
    if (job.seeds !== undefined) {
      if (job !== perSeed[0]) continue;
      tasks.push({
        name: SEED_TEMPLATE,
        template: SEED_TEMPLATE,
        dependencies: seedAfter,
        arguments: { parameters: [{ name: "seed", value: "{{item}}" }] },
        withItems: [...seeds!],
      });
      continue;
    }
    const after = [
      ...new Set(job.after.map((stage) => seedNames.has(stage) ? SEED_TEMPLATE : argoName(stage))),
    ];
    tasks.push(task(argoName(job.stage), `stage-${argoName(job.stage)}`, after, job.stage));
  }
  const seedTemplate: ITemplate[] = perSeed.length
    ? [{
      name: SEED_TEMPLATE,
      inputs: { parameters: [{ name: "seed" }] },
      dag: { tasks: seedTasks },
    }]
    : [];
  const workflow = new Workflow({
    metadata: {
      generateName: `csn-${argoName(options.pipeline)}-`,
      labels: { "csn/pipeline": argoName(options.pipeline), "csn/run": argoName(options.run) },
    },
    spec: {
      entrypoint: "pipeline",
      templates: [
        { name: "pipeline", dag: { tasks } },
        ...seedTemplate,
        ...jobs.map((job) => stageTemplate(job, options)),
      ],
    },
  });
  workflow.validate();
  return workflow;
}
