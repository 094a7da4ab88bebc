/** Runs one stage for real: drafts for its outputs, the stage's `run`, commit, cache entry. */
import type { StageResult } from "../stage/contract.ts";
import type { CacheEntry, KeyParts } from "./cache.ts";
import { writeCacheEntry } from "./cache.ts";
import type { Project } from "./project.ts";
import { runDir } from "./run_record.ts";
import type { PlannedStage } from "./plan.ts";
import { join } from "node:path";
import { exists, removeIfEmpty, removeTree } from "../util/fs.ts";
import { assertNoLink } from "../util/no_links.ts";

export interface ExecuteOptions {
  readonly stage: PlannedStage;
  /** The key's parts: their inputs are the artefact ids the stage reads. */
  readonly parts: KeyParts;
  readonly key: string;
  readonly runName: string;
  readonly log: (message: string) => void;
  /** Rerun asked for with --force (the stage may then redo work it would resume). */
  readonly forced?: boolean;
}

export async function executeStage(
  project: Project,
  options: ExecuteOptions,
): Promise<CacheEntry> {
  const { stage, parts, key, runName, log, forced = false } = options;
  const { entry, definition, params } = stage;
  const inputs: Record<string, { id: string; dir: string }> = {};
  for (const [name, id] of Object.entries(parts.inputs)) {
    const check = await project.store.verify(id);
    if (!check.intact) {
      throw new Error(
        `Cannot run stage "${entry.name}": input ${name} (${id}) is not usable: ${check.problem}`,
      );
    }
    inputs[name] = { id, dir: await project.store.open(id) };
  }
  const drafts = await Promise.all(definition.outputs.map(() => project.store.draft()));
  const outputs = Object.fromEntries(definition.outputs.map((name, i) => [name, drafts[i]!.dir]));
  const directory = runDir(project, runName);
  const newRunDir = !(await exists(directory));
  assertNoLink(project.runsDir, directory, project.root);
  await Deno.mkdir(directory, { recursive: true });
  const workDir = join(project.workDir, key);
  assertNoLink(join(project.root, "data"), workDir, project.root);
  await Deno.mkdir(workDir, { recursive: true });
  const started = performance.now();
  let result: StageResult | void;
  try {
    result = await definition.run({
      name: entry.name,
      params,
      inputs,
      outputs,
      runDir: directory,
      workDir,
      log: (message) => log(`${entry.name}: ${message}`),
      forced,
    });
  } catch (error) {
    await Promise.all(drafts.map((draft) => draft.abort()));
    // A first run that failed leaves no empty runs/<name>/ behind.
    if (newRunDir) await removeIfEmpty(directory);
    await removeIfEmpty(workDir); // kept only when it holds something to resume from
    throw new StageError(entry.name, error);
  }
  const publish = result?.publish ?? {};
  for (const [output, files] of Object.entries(publish)) {
    const dir = outputs[output];
    if (!dir) {
      throw new StageError(
        entry.name,
        new TypeError(`Cannot publish output "${output}": the stage has no such output`),
      );
    }
    for (const file of files) {
      if (!(await exists(join(dir, file)))) {
        throw new StageError(
          entry.name,
          new TypeError(`Cannot publish "${file}": it is absent from output ${output}`),
        );
      }
    }
  }
  const ids: Record<string, string> = {};
  for (const [i, name] of definition.outputs.entries()) ids[name] = await drafts[i]!.commit();
  const made: CacheEntry = {
    key,
    parts,
    outputs: ids,
    metrics: result?.metrics ?? {},
    publish: Object.fromEntries(Object.entries(publish).map(([k, v]) => [k, [...v]])),
    seconds: Math.round((performance.now() - started) / 10) / 100,
    created: new Date().toISOString(),
  };
  await writeCacheEntry(project, made);
  await removeTree(workDir);
  return made;
}

export class StageError extends Error {
  constructor(readonly stage: string, override readonly cause: unknown) {
    super(`Cannot run stage "${stage}": ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "StageError";
  }
}
