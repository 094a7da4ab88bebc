/**
 * Which model and shards a named run's query and export use, read from runs/NAME/record.json:
 * the best checkpoint (validate's `best` output), else the model the test stage evaluated
 * (e.g. one given with --checkpoint), else train's last epoch checkpoint.
 */
import { basename, join } from "node:path";
import type { Project } from "../pipeline/project.ts";
import { readRunRecord, type RunRecord, validRunName } from "../pipeline/run_record.ts";
import { checkpointFileIn } from "../eval/checkpoint_file.ts";

export type ModelSource = "validate.best" | "test.model" | "train.checkpoints";

export interface RunModel {
  readonly run: string;
  /** runs/NAME: where query caches and results go. */
  readonly runDir: string;
  readonly checkpoint: {
    /** Artefact id of the folder holding the checkpoint. */
    readonly id: string;
    /** The .safetensors file inside it. */
    readonly file: string;
    readonly source: ModelSource;
  };
  readonly shards: { readonly id: string; readonly dir: string };
}

/** A stage of the record by what it runs (`uses`), whatever the manifest named it. */
function stageUsing(record: RunRecord, uses: string) {
  return Object.values(record.stages).find((stage) => stage.uses === uses);
}

/** The artefact id a run's record gives for its model, and where that came from. */
export function modelRef(record: RunRecord): { id: string; source: ModelSource } | undefined {
  const best = stageUsing(record, "validate")?.outputs.best;
  if (best) return { id: best, source: "validate.best" };
  const tested = stageUsing(record, "test")?.parts.inputs.model;
  if (tested) return { id: tested, source: "test.model" };
  const trained = stageUsing(record, "train")?.outputs.checkpoints;
  if (trained) return { id: trained, source: "train.checkpoints" };
  return undefined;
}

/** The shards artefact: shard's output, else what an evaluating stage read. */
export function shardsRef(record: RunRecord): string | undefined {
  return stageUsing(record, "shard")?.outputs.shards ??
    stageUsing(record, "test")?.parts.inputs.shards ??
    stageUsing(record, "validate")?.parts.inputs.shards ??
    stageUsing(record, "train")?.parts.inputs.shards;
}

async function knownRuns(project: Project): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(project.runsDir)) {
      if (entry.isDirectory) names.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names.sort();
}

/** Opens an artefact after a fast integrity check, naming what it is on failure. */
export async function openArtefact(project: Project, id: string, what: string): Promise<string> {
  const check = await project.store.verify(id, "fast");
  if (!check.intact) {
    throw new Error(
      `Cannot open ${what} (artefact ${id}): it is missing or damaged: ${check.problem}; ` +
        `rerun its pipeline`,
    );
  }
  return await project.store.open(id);
}

/** `name` may also be spelt runs/NAME, as the other commands print it. */
export async function resolveRunModel(project: Project, name: string): Promise<RunModel> {
  const run = validRunName(name.replace(/^(\.\/)?runs\//, "").replace(/\/+$/, ""));
  const record = await readRunRecord(project, run);
  if (!record) {
    const runs = await knownRuns(project);
    throw new Deno.errors.NotFound(
      `Cannot find run "${run}": ${join(project.runsDir, run, "record.json")} does not exist ` +
        `(runs: ${runs.join(", ") || "none yet"}; start one with \`deno task pipeline full\`)`,
    );
  }
  const model = modelRef(record);
  if (!model) {
    throw new Deno.errors.NotFound(
      `Cannot use run "${run}": it has no trained model, its record has no validate.best, test ` +
        `model or train.checkpoints (run \`deno task pipeline ${record.pipeline} --name ${run}\` ` +
        `past the train stage first)`,
    );
  }
  const shardsId = shardsRef(record);
  if (!shardsId) {
    throw new Deno.errors.NotFound(
      `Cannot use run "${run}": it records no shards (shard.shards output)`,
    );
  }
  const modelDir = await openArtefact(project, model.id, `the model of run "${run}"`);
  const file = await checkpointFileIn(modelDir, `${model.source} of run "${run}" (${model.id})`);
  const shardsDir = await openArtefact(project, shardsId, `the shards of run "${run}"`);
  return {
    run,
    runDir: join(project.runsDir, run),
    checkpoint: { id: model.id, file, source: model.source },
    shards: { id: shardsId, dir: shardsDir },
  };
}

/** A short label for logs: "validate.best 7cc97a23…/model_best.safetensors". */
export function describeModel(model: RunModel): string {
  const { checkpoint } = model;
  return `${checkpoint.source} ${checkpoint.id.slice(0, 12)}/${basename(checkpoint.file)}`;
}
