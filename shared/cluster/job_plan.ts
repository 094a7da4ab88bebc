/**
 * What a cluster runs for a pipeline: one job per manifest stage, a per-seed stage being one
 * job with an item per seed (an array job, `withItems`), each job waiting on the jobs its
 * inputs come from. Each item runs `deno task stage <instance> --job` against a shared store.
 */
import type { Manifest, StageEntry } from "../pipeline/manifest.ts";
import { seedName } from "../pipeline/expand.ts";
import type { ParamValues } from "../pipeline/params.ts";

export interface ClusterJob {
  /** The manifest stage's name. */
  readonly stage: string;
  /** Seeds, for a per-seed stage (one item each); undefined for a stage run once. */
  readonly seeds?: readonly number[];
  /** Manifest stages whose jobs must succeed first (all of their items). */
  readonly after: readonly string[];
  /**
   * Per-seed stages over the same seeds whose item of the same seed must succeed first (SLURM
   * `aftercorr`: seed 2 of validate starts when seed 2 of train is done). Also in `after`.
   */
  readonly afterEach: readonly string[];
  readonly resources: NonNullable<StageEntry["resources"]>;
}

/** Jobs for the named stage instances (all when `only` is undefined), in manifest order. */
export function clusterJobs(
  source: Manifest,
  seeds: number,
  only?: ReadonlySet<string>,
): ClusterJob[] {
  const jobs: ClusterJob[] = [];
  for (const entry of source.stages) {
    const instances = entry.per_seed
      ? Array.from({ length: seeds }, (_, i) => i + 1).filter((seed) =>
        !only || only.has(seedName(entry.name, seed))
      )
      : only && !only.has(entry.name)
      ? []
      : [0];
    if (instances.length === 0) continue;
    const upstream = [...new Set(Object.values(entry.inputs).map((ref) => ref.split(".")[0]!))];
    const submitted = jobs.filter((job) => upstream.includes(job.stage));
    const seedsOfJob = entry.per_seed ? instances : undefined;
    const sameSeeds = (job: ClusterJob) =>
      seedsOfJob !== undefined && job.seeds?.join(",") === seedsOfJob.join(",");
    jobs.push({
      stage: entry.name,
      seeds: seedsOfJob,
      after: submitted.map((job) => job.stage),
      afterEach: submitted.filter(sameSeeds).map((job) => job.stage),
      resources: entry.resources ?? {},
    });
  }
  return jobs;
}

/** `stage` command arguments for one instance: its pipeline, run, overrides, job mode. */
export function stageArgs(
  instance: string,
  pipeline: string,
  run: string,
  overrides: Readonly<Record<string, ParamValues>>,
  store?: string,
): string[] {
  const sets = Object.entries(overrides).flatMap(([stage, params]) =>
    Object.entries(params).flatMap(([param, value]) => [
      "--with",
      `${stage}.${param}=${JSON.stringify(value)}`,
    ])
  );
  const where = store ? ["--store", store] : [];
  return [instance, "--pipeline", pipeline, "--name", run, "--job", ...where, ...sets];
}
