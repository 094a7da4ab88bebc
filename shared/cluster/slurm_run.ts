/**
 * `pipeline NAME --executor slurm`: decide what must run (as `status` does), submit each of
 * those stages as an sbatch job (per-seed stages as one array job) wired with `afterok`, wait
 * while streaming their logs, then record the run as a local run would (every stage is cached
 * by then, so that pass only reads the cache and writes runs/<run>/).
 */
import { join } from "node:path";
import { loadManifest } from "../pipeline/manifest.ts";
import type { Project } from "../pipeline/project.ts";
import { runDir } from "../pipeline/run_record.ts";
import { probeStore } from "../pipeline/store_probe.ts";
import { planStages } from "../pipeline/plan.ts";
import { type PipelineReport, type RunOptions, runPipeline } from "../pipeline/runner.ts";
import { fromFileUrl } from "../util/file_url_path.ts";
import { type ClusterJob, clusterJobs, stageArgs } from "./job_plan.ts";
import { seedsOf } from "./seeds.ts";
import { isFailed, jobStates, LogFollower, logTail, sbatch, scancel } from "./slurm_jobs.ts";
import { logName, sbatchScript } from "./slurm_script.ts";
import { taskFlags } from "../util/task_flags.ts";

export interface SlurmOptions extends RunOptions {
  readonly partition?: string;
  /** How often job states are polled (ms). */
  readonly pollMs?: number;
}

/** The command a job runs `stage` with: this Deno, the stage task's permissions, this
 * checkout's config and CLI. */
function stageCommand(): string[] {
  const repo = Deno.realPathSync(fromFileUrl(new URL("../../", import.meta.url)));
  return [
    Deno.execPath(),
    "run",
    ...taskFlags("shared/cli/stage_main.ts"),
    "--config",
    join(repo, "deno.json"),
    join(repo, "shared", "cli", "stage_main.ts"),
  ];
}

export async function runOnSlurm(project: Project, options: SlurmOptions): Promise<PipelineReport> {
  if (options.force?.length) {
    throw new TypeError("Cannot use --force with --executor slurm: run `stage NAME --force`");
  }
  if (project.storeUrl === "local") {
    options.log("note: --executor slurm with the local store: nodes must share this folder");
  }
  const source = await loadManifest(project.root, options.pipeline);
  const runName = options.runName ?? source.name;
  await probeStore(project, "submit SLURM jobs");
  const preview = await runPipeline(project, { ...options, dryRun: true });
  if (options.dryRun) return preview;
  const pending = preview.stages.filter((stage) => stage.status === "would-run");
  const submitted = new Map<string, string>();
  if (pending.length === 0) options.log("slurm: nothing to submit, every stage is cached");
  else {
    const plan = await planStages(project, source, options.overrides);
    const jobs = clusterJobs(
      source,
      seedsOf(source, plan.manifest),
      new Set(pending.map((s) => s.name)),
    );
    const logDir = join(runDir(project, runName), "slurm");
    await Deno.mkdir(logDir, { recursive: true });
    const command = [
      ...stageCommand(),
      ...stageArgs("{instance}", source.name, runName, options.overrides ?? {}, project.storeUrl),
    ];
    for (const job of jobs) {
      // Same-seed chains wait seed by seed; everything else waits for the whole job.
      const idOf = (stage: string) => submitted.get(stage)!;
      const whole = job.after.filter((stage) => !job.afterEach.includes(stage)).map(idOf);
      const script = sbatchScript(job, whole, {
        pipeline: source.name,
        root: project.root,
        logDir,
        command,
        partition: options.partition,
      }, job.afterEach.map(idOf));
      const path = join(logDir, `${job.stage}.sbatch`);
      await Deno.writeTextFile(path, script);
      const id = await sbatch(path);
      submitted.set(job.stage, id);
      const items = job.seeds ? ` (array ${job.seeds.join(",")})` : "";
      options.log(`slurm: submitted ${job.stage} as job ${id}${items}`);
    }
    await waitFor(jobs, submitted, logDir, options);
  }
  const report = await runPipeline(project, { ...options, dryRun: false });
  const before = new Map(pending.map((stage) => [stage.name, stage.reason]));
  for (const stage of report.stages) {
    const reason = before.get(stage.name);
    if (reason === undefined) continue;
    const base = stage.name.replace(/-s\d+$/, "");
    const job = submitted.get(submitted.has(stage.name) ? stage.name : base);
    stage.status = "ran";
    stage.reason = `${reason} (SLURM job ${job})`;
  }
  return report;
}

async function waitFor(
  jobs: readonly ClusterJob[],
  ids: ReadonlyMap<string, string>,
  logDir: string,
  options: SlurmOptions,
): Promise<void> {
  // Only this invocation's jobs: the folder also holds the logs of every earlier job of the run.
  const follower = new LogFollower(logDir, new Set(ids.values()), (line) => options.log(line));
  const stageOf = new Map([...ids].map(([stage, id]) => [id, stage]));
  // Interrupted: the jobs go too, as a local run's stages would.
  const interrupt = () => {
    options.log(`slurm: interrupted, cancelling jobs ${[...ids.values()].join(" ")}`);
    scancel([...ids.values()]).finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", interrupt);
  try {
    await follow(jobs, stageOf, follower, logDir, options);
  } finally {
    Deno.removeSignalListener("SIGINT", interrupt);
  }
}

async function follow(
  jobs: readonly ClusterJob[],
  stageOf: ReadonlyMap<string, string>,
  follower: LogFollower,
  logDir: string,
  options: SlurmOptions,
): Promise<void> {
  const ids = [...stageOf.keys()];
  while (true) {
    const states = (await Promise.all(ids.map(jobStates))).flat();
    await follower.poll();
    const failed = states.find((job) => isFailed(job.state));
    if (failed) {
      await scancel(ids);
      const [jobId, task] = failed.id.split("_") as [string, string | undefined];
      const stage = stageOf.get(jobId)!;
      const job = jobs.find((j) => j.stage === stage)!;
      const file = logName(job).replace("%A", jobId).replace("%a", task ?? "").replace(
        "%j",
        jobId,
      );
      const instance = task ? `${stage}-s${task}` : stage;
      throw new Error(
        `Cannot run stage "${instance}": SLURM job ${failed.id} failed (${failed.state}, exit ` +
          `code ${failed.exit}); the end of ${join(logDir, file)}:\n${await logTail(
            join(logDir, file),
          )}`,
      );
    }
    if (states.every((job) => job.state === "COMPLETED")) return;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
