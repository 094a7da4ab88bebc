/**
 * The sbatch script of one cluster job: resources from the manifest, an array for a per-seed
 * stage, `afterok` on the jobs its inputs come from, and one `stage --job` run per item.
 */
import type { ClusterJob } from "./job_plan.ts";

export interface SlurmScriptOptions {
  readonly pipeline: string;
  /** The project folder jobs run in (shared with the nodes, or the same path on each). */
  readonly root: string;
  /** Folder for the jobs' logs. */
  readonly logDir: string;
  /** The command that runs `stage`, then its arguments (see stageArgs): argv[0] is the binary. */
  readonly command: readonly string[];
  readonly partition?: string;
}

/** Quotes a word for bash (single quotes, embedded ones closed and escaped). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:@%+-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

export function logName(job: ClusterJob): string {
  return job.seeds ? `${job.stage}-%A_%a.log` : `${job.stage}-%j.log`;
}

/**
 * `after` holds the job ids to wait for whole (afterok), `each` those to wait for seed by seed
 * (aftercorr, arrays over the same seeds).
 */
export function sbatchScript(
  job: ClusterJob,
  after: readonly string[],
  options: SlurmScriptOptions,
  each: readonly string[] = [],
): string {
  const dependency = [
    ...(after.length ? [`afterok:${after.join(":")}`] : []),
    ...(each.length ? [`aftercorr:${each.join(":")}`] : []),
  ].join(",");
  const { cpus, memory_gb: memory, gpus } = job.resources;
  const lines = [
    "#!/bin/bash",
    `#SBATCH --job-name=${shellQuote(`csn-${options.pipeline}-${job.stage}`)}`,
    `#SBATCH --chdir=${shellQuote(options.root)}`,
    `#SBATCH --output=${shellQuote(`${options.logDir}/${logName(job)}`)}`,
    "#SBATCH --open-mode=append",
    `#SBATCH --cpus-per-task=${cpus ?? 1}`,
    ...(memory ? [`#SBATCH --mem=${Math.ceil(memory * 1024)}M`] : []),
    ...(gpus ? [`#SBATCH --gpus=${gpus}`] : []),
    ...(options.partition ? [`#SBATCH --partition=${shellQuote(options.partition)}`] : []),
    ...(job.seeds ? [`#SBATCH --array=${job.seeds.join(",")}`] : []),
    ...(dependency
      ? [`#SBATCH --dependency=${dependency}`, "#SBATCH --kill-on-invalid-dep=yes"]
      : []),
    "set -euo pipefail",
    job.seeds
      ? `instance=${shellQuote(job.stage)}-s"$SLURM_ARRAY_TASK_ID"`
      : `instance=${shellQuote(job.stage)}`,
  ];
  const [binary, ...args] = options.command;
  const words = [binary!, ...args].map((word) =>
    word === "{instance}" ? '"$instance"' : shellQuote(word)
  );
  lines.push(`exec ${words.join(" ")}`);
  return lines.join("\n") + "\n";
}
