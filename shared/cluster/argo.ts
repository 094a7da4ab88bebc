/**
 * An Argo Workflows `Workflow` for a pipeline: a `dag` with one task per manifest stage
 * (per-seed stages fan out with `withItems`), each running `deno task stage ... --job` in the
 * project's image against an S3 store, with retries and the manifest's resource requests.
 * Built from the typed models of @kubernetes-models/argo-workflows and validated by them.
 */
import {
  type IDAGTask,
  type ITemplate,
  Workflow,
} from "@kubernetes-models/argo-workflows/argoproj.io/v1alpha1";
import type { ParamValues } from "../pipeline/params.ts";
import { type ClusterJob, stageArgs } from "./job_plan.ts";

export interface ArgoOptions {
  readonly pipeline: string;
  readonly run: string;
  readonly image: string;
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

/** Argo names are DNS labels: lowercase letters, digits and "-". */
export function argoName(name: string): string {
  return name.replaceAll("_", "-");
}

export function argoWorkflow(jobs: readonly ClusterJob[], options: ArgoOptions): Workflow {
  const env = [
    { name: "CSN_STORE", value: options.store },
    ...(options.endpoint ? [{ name: "AWS_ENDPOINT_URL", value: options.endpoint }] : []),
    ...(options.region ? [{ name: "AWS_REGION", value: options.region }] : []),
    ...["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"].map((name) => ({
      name,
      valueFrom: { secretKeyRef: { name: options.secret, key: name } },
    })),
  ];
  const templates = jobs.map((job): ITemplate => {
    const { cpus, memory_gb: memory, gpus } = job.resources;
    const requests: Record<string, string> = {};
    if (cpus) requests.cpu = String(cpus);
    if (memory) requests.memory = `${Math.ceil(memory * 1024)}Mi`;
    const limits: Record<string, string> = gpus ? { "nvidia.com/gpu": String(gpus) } : {};
    return {
      name: `stage-${argoName(job.stage)}`,
      inputs: { parameters: [{ name: "instance" }] },
      retryStrategy: {
        limit: options.retries,
        retryPolicy: "Always",
        backoff: { duration: "30s", factor: 2 },
      },
      container: {
        name: "stage",
        image: options.image,
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
  });
  const tasks = jobs.map((job): IDAGTask => ({
    name: argoName(job.stage),
    template: `stage-${argoName(job.stage)}`,
    dependencies: job.after.map(argoName),
    arguments: {
      parameters: [{
        name: "instance",
        value: job.seeds ? `${job.stage}-s{{item}}` : job.stage,
      }],
    },
    ...(job.seeds ? { withItems: [...job.seeds] } : {}),
  }));
  const workflow = new Workflow({
    metadata: {
      generateName: `csn-${argoName(options.pipeline)}-`,
      labels: { "csn/pipeline": argoName(options.pipeline), "csn/run": argoName(options.run) },
    },
    spec: {
      entrypoint: "pipeline",
      templates: [{ name: "pipeline", dag: { tasks } }, ...templates],
    },
  });
  workflow.validate();
  return workflow;
}
