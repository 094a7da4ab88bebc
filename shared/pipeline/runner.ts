/**
 * The pipeline runner: plans the stages (plan.ts), wires each one's inputs from upstream
 * outputs, has each decided and run (decide.ts, execute.ts), and records the run
 * (run_record.ts), under the run's lock.
 */
import { join } from "node:path";
import { withFileLock } from "../util/lock.ts";
import { loadManifest, type Manifest } from "./manifest.ts";
import type { ParamValues } from "./params.ts";
import type { Project } from "./project.ts";
import { publish, readRunRecord, runDir, type RunRecord, writeRunRecord } from "./run_record.ts";
import type { CacheEntry } from "./cache.ts";
import { exists, removeTree } from "../util/fs.ts";
import { assertNoLink } from "../util/no_links.ts";
import { decideAndRun, type StageReport } from "./decide.ts";
import { type PlannedStage, planStages, stageSelection, unknownStage } from "./plan.ts";
import { runPlanChecks } from "./plan_checks.ts";

export type { StageReport, StageStatus } from "./decide.ts";

export interface PipelineReport {
  pipeline: string;
  run: string;
  stages: StageReport[];
}

export interface RunOptions {
  readonly pipeline: string;
  readonly runName?: string;
  readonly until?: string;
  /** Only these stage instances run; their inputs come from the run's record. */
  readonly only?: readonly string[];
  /** Per stage instance: params from the command line. */
  readonly overrides?: Readonly<Record<string, ParamValues>>;
  /** Per stage instance: input artefact ids that replace the wiring. */
  readonly inputOverrides?: Readonly<Record<string, Record<string, string>>>;
  readonly force?: readonly string[];
  /** Decide only; run nothing, write nothing. */
  readonly dryRun?: boolean;
  /**
   * Run as a cluster job: upstream outputs come from the cache (never from a run record, which
   * the submitting machine writes when all jobs are done), and no run lock or record is taken.
   */
  readonly job?: boolean;
  readonly log: (message: string) => void;
}

export async function runPipeline(project: Project, options: RunOptions): Promise<PipelineReport> {
  const source = await loadManifest(project.root, options.pipeline);
  const runName = options.runName ?? source.name;
  const { manifest, stages: planned } = await planStages(project, source, options.overrides);
  const selected = new Set(options.only ?? stageSelection(manifest, options.until));
  // Only the stages this run would run: a job running `stage validate` on another machine
  // need not have what train's params name.
  await runPlanChecks(planned, selected);
  for (const name of options.force ?? []) {
    if (!planned.some((stage) => stage.entry.name === name)) {
      throw unknownStage(`rerun --force ${name}`, name, manifest, planned.map((s) => s.entry.name));
    }
  }
  const work = async () => {
    if (!options.dryRun) {
      const swept = await project.store.sweep();
      if (swept) options.log(`swept ${swept} leftover draft(s) of killed writes`);
    }
    const previous = await readRunRecord(project, runName);
    const folder = runDir(project, runName);
    if (!options.dryRun && !options.job) assertNoLink(project.runsDir, folder, project.root);
    const newFolder = !options.dryRun && !options.job && !(await exists(folder));
    try {
      return await stages(previous);
    } catch (error) {
      // A failed first run leaves no half-made runs/<name>/; a failed rerun leaves the last good
      // record and published files (the failed stage's live logs show what happened).
      if (newFolder) await removeTree(folder);
      throw error;
    }
  };
  const stages = async (previous: RunRecord | undefined) => {
    const record: RunRecord = previous ??
      { format: "csn-run/1", pipeline: manifest.name, run: runName, stages: {} };
    const report: PipelineReport = { pipeline: manifest.name, run: `runs/${runName}`, stages: [] };
    const outputsOf = new Map<string, Record<string, string> | null>();
    // Published once every stage has succeeded, with the record: a failure changes neither.
    const toPublish: [string, CacheEntry][] = [];
    const upstream = ancestors(manifest, selected);
    for (const stage of planned) {
      const name = stage.entry.name;
      if (!selected.has(name)) {
        const known = options.job ? undefined : record.stages[name];
        if (known || !upstream.has(name)) {
          outputsOf.set(name, known ? known.outputs : null);
          continue;
        }
        // Not recorded here (another machine ran it): its outputs are in the cache, if built.
        const found = await decideAndRun(project, stage, {
          runName,
          inputIds: resolveInputs(stage, outputsOf, {}, { dryRun: true, runName, pipeline: "" }),
          previous: undefined,
          force: false,
          dryRun: true,
          publish: false,
          log: options.log,
        });
        const hit = found.report.status === "cached";
        outputsOf.set(name, hit ? found.report.outputs : null);
        if (hit && found.record) record.stages[name] = found.record;
        continue;
      }
      const result = await decideAndRun(project, stage, {
        runName,
        inputIds: resolveInputs(stage, outputsOf, options.inputOverrides?.[name], {
          dryRun: options.dryRun ?? false,
          runName,
          pipeline: manifest.name,
        }),
        previous: previous?.stages[name],
        force: options.force?.includes(name) ?? false,
        dryRun: options.dryRun ?? false,
        publish: !options.job && !options.dryRun,
        log: options.log,
      });
      if (result.publish) toPublish.push([name, result.publish]);
      report.stages.push(result.report);
      outputsOf.set(name, result.report.status === "would-run" ? null : result.report.outputs);
      if (result.record) record.stages[name] = result.record;
    }
    for (const [name, entry] of toPublish) await publish(project, runName, name, entry);
    if (!options.dryRun && !options.job) await writeRunRecord(project, record);
    return report;
  };
  if (options.dryRun || options.job) return await work();
  return await withFileLock(join(project.locksDir, `run-${runName}.lock`), work);
}

/** The stages the selected ones take inputs from, directly or further up. */
function ancestors(manifest: Manifest, selected: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  for (const stage of [...manifest.stages].reverse()) {
    if (!selected.has(stage.name) && !found.has(stage.name)) continue;
    for (const ref of Object.values(stage.inputs)) found.add(ref.split(".")[0]!);
  }
  return found;
}

/** Input ids from upstream outputs (null: upstream has yet to run, so unknown). */
function resolveInputs(
  stage: PlannedStage,
  outputsOf: Map<string, Record<string, string> | null>,
  overrides: Record<string, string> = {},
  context: { dryRun: boolean; runName: string; pipeline: string },
): Record<string, string> | null {
  const { dryRun, runName, pipeline } = context;
  const ids: Record<string, string> = {};
  for (const [input, ref] of Object.entries(stage.entry.inputs)) {
    if (overrides[input]) {
      ids[input] = overrides[input];
      continue;
    }
    const [upstream, output] = ref.split(".") as [string, string];
    const outputs = outputsOf.get(upstream);
    if (!outputs) {
      if (!dryRun) {
        throw new Deno.errors.NotFound(
          `Cannot run stage "${stage.entry.name}": it needs input "${input}" from stage ` +
            `"${upstream}", which has no output recorded in runs/${runName} nor cached in the ` +
            `store: run \`deno task pipeline ${pipeline} --until ${upstream}\` first`,
        );
      }
      return null;
    }
    const id = outputs[output];
    if (!id) {
      throw new TypeError(
        `Cannot run stage "${stage.entry.name}": its input "${input}" names output ` +
          `"${output}" of stage "${upstream}", which has no such output (outputs: ` +
          `${Object.keys(outputs).join(", ")})`,
      );
    }
    ids[input] = id;
  }
  return ids;
}
