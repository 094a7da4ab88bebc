/**
 * The pipeline runner: resolves each stage's params and inputs, derives its cache key, and
 * runs it only when no intact cached result exists for that key.
 */
import { join } from "node:path";
import type { StageDefinition } from "../stage/contract.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { sha256Hex } from "../util/hash.ts";
import { withFileLock } from "../util/lock.ts";
import { closest } from "../util/closest.ts";
import { UsageError } from "../util/usage_error.ts";
import { type CacheEntry, type KeyParts, readCacheEntry } from "./cache.ts";
import { hashModuleGraph } from "./code_hash.ts";
import { explainKeyChange } from "./explain.ts";
import { loadManifest, type Manifest, type StageEntry } from "./manifest.ts";
import { COMMAND_LINE, keyedParams, type ParamValues, resolveParams } from "./params.ts";
import type { Project } from "./project.ts";
import { readRunRecord, runDir, type RunRecord, writeRunRecord } from "./run_record.ts";
import { executeStage } from "./execute.ts";
import { baseName, expandSeeds } from "./expand.ts";
import { loadStage, stageModulePath } from "./stage_loader.ts";
import { runPlanChecks } from "./plan_checks.ts";

export type StageStatus = "ran" | "cached" | "would-run";

export interface StageReport {
  name: string;
  uses: string;
  key: string | null;
  status: StageStatus;
  reason: string;
  seconds: number;
  outputs: Record<string, string>;
  metrics: Record<string, unknown>;
}

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

/** A stage instance of the manifest with its definition and resolved params. */
export interface PlannedStage {
  readonly entry: StageEntry;
  readonly definition: StageDefinition;
  readonly params: ParamValues;
}

export interface Plan {
  /** The manifest after per-seed expansion. */
  readonly manifest: Manifest;
  readonly stages: PlannedStage[];
}

export async function planStages(
  project: Project,
  source: Manifest,
  overrides: Readonly<Record<string, ParamValues>> = {},
): Promise<Plan> {
  const definitions = new Map<string, StageDefinition>();
  for (const entry of source.stages) {
    const uses = entry.uses ?? entry.name;
    if (!definitions.has(uses)) definitions.set(uses, await loadStage(project.root, uses));
  }
  const definitionOf = (entry: StageEntry) => definitions.get(entry.uses ?? entry.name)!;
  const manifest = source.seeds_from
    ? expandSeeds(
      source,
      seedCount(source, definitionOf, overrides),
      (entry) => "seed" in definitionOf(entry).params.shape,
    )
    : source;
  const names = [...new Set([...source.stages, ...manifest.stages].map((stage) => stage.name))];
  for (const name of Object.keys(overrides)) {
    if (!names.includes(name)) {
      const hint = closest(name, names);
      throw new UsageError(
        `Cannot set params of stage "${name}": pipeline "${manifest.name}" has no such stage` +
          (hint ? `; did you mean "${hint}"?` : "") + ` Stages: ${names.join(", ")}`,
      );
    }
  }
  const planned: PlannedStage[] = [];
  for (const entry of manifest.stages) {
    const definition = definitionOf(entry);
    for (const input of definition.inputs) {
      if (!(input in entry.inputs)) {
        throw new TypeError(
          `Cannot plan pipeline "${manifest.name}": stage "${entry.name}" needs input ` +
            `"${input}" (stages.${entry.name}.inputs.${input} = "<stage>.<output>")`,
        );
      }
    }
    for (const input of Object.keys(entry.inputs)) {
      if (!definition.inputs.includes(input) && !definition.variadicInputs) {
        throw new TypeError(
          `Cannot plan pipeline "${manifest.name}": stage "${entry.name}" has no input ` +
            `"${input}" (it takes: ${definition.inputs.join(", ") || "none"})`,
        );
      }
    }
    const base = baseName(entry.name, source);
    const linked = Object.fromEntries(
      Object.entries(entry.params_from).map((
        [param, ref],
      ) => [param, resolvedParam(source, ref, definitionOf, overrides)]),
    );
    const params = resolveParams(definition, entry.name, [
      { source: `pipelines/${manifest.name}.json`, values: entry.params },
      { source: `pipelines/${manifest.name}.json params_from`, values: linked },
      { source: COMMAND_LINE, values: overrides[base] ?? {} },
      { source: COMMAND_LINE, values: base === entry.name ? {} : overrides[entry.name] ?? {} },
    ]);
    planned.push({ entry, definition, params });
  }
  await runPlanChecks(planned);
  return { manifest, stages: planned };
}

/** The number of seeds: the resolved value of the manifest's `seeds_from` param. */
function seedCount(
  manifest: Manifest,
  definitionOf: (entry: StageEntry) => StageDefinition,
  overrides: Readonly<Record<string, ParamValues>>,
): number {
  return resolvedParam(manifest, manifest.seeds_from!, definitionOf, overrides) as number;
}

/** A "<stage>.<param>" of a stage run once, as resolved (its defaults, manifest, --set). */
function resolvedParam(
  manifest: Manifest,
  ref: string,
  definitionOf: (entry: StageEntry) => StageDefinition,
  overrides: Readonly<Record<string, ParamValues>>,
): unknown {
  const [stage, param] = ref.split(".") as [string, string];
  const entry = manifest.stages.find((s) => s.name === stage && !s.per_seed);
  if (!entry) {
    throw new TypeError(
      `Cannot resolve "${ref}" in pipeline "${manifest.name}": "${stage}" is not a stage run ` +
        "once",
    );
  }
  const params = resolveParams(definitionOf(entry), stage, [
    { source: `pipelines/${manifest.name}.json`, values: entry.params },
    { source: COMMAND_LINE, values: overrides[stage] ?? {} },
  ]);
  if (!(param in params)) {
    throw new TypeError(
      `Cannot resolve "${ref}" in pipeline "${manifest.name}": stage "${stage}" has no param ` +
        `"${param}"`,
    );
  }
  return params[param];
}

export function stageSelection(manifest: Manifest, until?: string): string[] {
  const names = manifest.stages.map((stage) => stage.name);
  if (until === undefined) return names;
  const index = names.indexOf(until);
  if (index < 0) {
    const hint = closest(until, names);
    throw new UsageError(
      `Cannot stop at --until ${until}: pipeline "${manifest.name}" has no such stage` +
        (hint ? ` (did you mean "${hint}"?)` : "") + `; stages: ${names.join(", ")}`,
    );
  }
  return names.slice(0, index + 1);
}

export async function runPipeline(project: Project, options: RunOptions): Promise<PipelineReport> {
  const source = await loadManifest(project.root, options.pipeline);
  const runName = options.runName ?? source.name;
  const { manifest, stages: planned } = await planStages(project, source, options.overrides);
  const selected = new Set(options.only ?? stageSelection(manifest, options.until));
  for (const name of options.force ?? []) {
    if (!planned.some((stage) => stage.entry.name === name)) {
      throw new UsageError(
        `Cannot rerun --force ${name}: pipeline "${manifest.name}" has no such stage ` +
          `(stages: ${planned.map((stage) => stage.entry.name).join(", ")})`,
      );
    }
  }
  const work = async () => {
    if (!options.dryRun) {
      const swept = await project.store.sweep();
      if (swept) options.log(`swept ${swept} leftover draft(s) of killed writes`);
    }
    const previous = await readRunRecord(project, runName);
    const record: RunRecord = previous ??
      { format: "csn-run/1", pipeline: manifest.name, run: runName, stages: {} };
    const report: PipelineReport = { pipeline: manifest.name, run: `runs/${runName}`, stages: [] };
    const outputsOf = new Map<string, Record<string, string> | null>();
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
        publish: !options.job,
        log: options.log,
      });
      report.stages.push(result.report);
      outputsOf.set(name, result.report.status === "would-run" ? null : result.report.outputs);
      if (result.record) record.stages[name] = result.record;
    }
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

interface Decision {
  readonly runName: string;
  readonly inputIds: Record<string, string> | null;
  readonly previous: RunRecord["stages"][string] | undefined;
  readonly force: boolean;
  readonly dryRun: boolean;
  /** Copy the stage's published files into runs/<run>/ (not for upstream lookups, jobs). */
  readonly publish: boolean;
  readonly log: (message: string) => void;
}

async function decideAndRun(project: Project, stage: PlannedStage, decision: Decision) {
  const { entry, definition, params } = stage;
  const uses = entry.uses ?? entry.name;
  const blank = { name: entry.name, uses, seconds: 0, outputs: {}, metrics: {} };
  if (decision.inputIds === null) {
    const report: StageReport = {
      ...blank,
      key: null,
      status: "would-run",
      reason: "an upstream stage will run first",
    };
    return { report, record: undefined };
  }
  const code = await hashModuleGraph(stageModulePath(project.root, uses), project.root);
  const parts: KeyParts = {
    stage: uses,
    code: code.hash,
    params: keyedParams(definition, params),
    inputs: decision.inputIds,
    runtime: (await definition.runtimeFacts?.(params)) ?? {},
  };
  const key = sha256Hex(canonicalJson(parts));
  const cached = async () => {
    const entry = await readCacheEntry(project, key);
    if (!entry) return { entry: undefined, problem: undefined };
    for (const [output, id] of Object.entries(entry.outputs)) {
      const check = await project.store.verify(id);
      if (!check.intact) {
        return {
          entry: undefined,
          problem: `output ${output} (${id.slice(0, 12)}) ${check.problem}`,
        };
      }
    }
    return { entry, problem: undefined };
  };
  const recordOf = (entry: CacheEntry) => ({
    uses,
    key,
    parts,
    codeFiles: code.files,
    outputs: entry.outputs,
    seconds: entry.seconds,
    metrics: entry.metrics,
    params,
    finished: entry.created,
  });
  const first = await cached();
  const because = () =>
    decision.force
      ? "forced with --force"
      : first.problem
      ? `cached result damaged: ${first.problem}`
      : explainKeyChange(parts, code.files, decision.previous);
  if (first.entry && !decision.force) {
    if (decision.publish) await publish(project, decision.runName, entry.name, first.entry);
    return {
      report: reportOf(blank, key, "cached", "key and outputs intact", first.entry),
      record: recordOf(first.entry),
    };
  }
  if (decision.dryRun) {
    return {
      report: { ...blank, key, status: "would-run" as const, reason: because() },
      record: undefined,
    };
  }
  const reason = because();
  const lock = join(project.locksDir, `key-${key}.lock`);
  const entryMade = await withFileLock(lock, async () => {
    // Another run may have made it while we waited for the lock.
    const again = decision.force ? { entry: undefined, problem: undefined } : await cached();
    if (again.entry) return { entry: again.entry, ran: false };
    if (again.problem || first.problem) {
      decision.log(`${entry.name}: ${again.problem ?? first.problem}; rebuilding`);
    }
    await quarantineDamaged(project, key);
    decision.log(`${entry.name}: running (${reason})`);
    const made = await executeStage(
      project,
      stage,
      parts,
      key,
      decision.runName,
      decision.log,
      decision.force,
    );
    return { entry: made, ran: true };
  });
  if (decision.publish) await publish(project, decision.runName, entry.name, entryMade.entry);
  const status = entryMade.ran ? "ran" : "cached";
  return {
    report: reportOf(
      blank,
      key,
      status,
      entryMade.ran ? reason : "made by a concurrent run",
      entryMade.entry,
    ),
    record: recordOf(entryMade.entry),
  };
}

function reportOf(
  blank: { name: string; uses: string },
  key: string,
  status: StageStatus,
  reason: string,
  entry: CacheEntry,
): StageReport {
  return {
    ...blank,
    key,
    status,
    reason,
    seconds: entry.seconds,
    outputs: entry.outputs,
    metrics: entry.metrics,
  };
}

/** Damaged outputs of a previous entry are moved aside so the rebuild can take their place. */
async function quarantineDamaged(project: Project, key: string): Promise<void> {
  const entry = await readCacheEntry(project, key);
  if (!entry) return;
  for (const id of Object.values(entry.outputs)) {
    const check = await project.store.verify(id);
    if (!check.intact && check.problem !== "absent") {
      await project.store.quarantine(id, check.problem);
    }
  }
}

/** Copies the human-facing files of a stage's outputs into runs/<run>/<stage>/. */
async function publish(project: Project, runName: string, stageName: string, entry: CacheEntry) {
  for (const [output, files] of Object.entries(entry.publish)) {
    const id = entry.outputs[output];
    if (!id) {
      throw new TypeError(
        `Cannot publish files of stage "${stageName}": it publishes from unknown output ` +
          `"${output}"`,
      );
    }
    // A remote store copies single files out, so publishing never fetches whole checkpoints.
    const source = project.store.copyOut ? undefined : await project.store.open(id);
    for (const file of files) {
      const target = join(runDir(project, runName), stageName, file);
      await Deno.mkdir(join(target, ".."), { recursive: true });
      await Deno.remove(target).catch((error) => {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      });
      if (source) await Deno.copyFile(join(source, file), target);
      else await project.store.copyOut!(id, file, target);
      await Deno.chmod(target, 0o644);
    }
  }
}
