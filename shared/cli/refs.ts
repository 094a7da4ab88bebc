/** Resolves what users type for an artefact: an id, a unique id prefix, or runs/NAME. */
import { basename, join } from "node:path";
import type { Project } from "../pipeline/project.ts";
import { readRunRecord } from "../pipeline/run_record.ts";
import { UsageError } from "../util/usage_error.ts";
import type { ShardFacts } from "../eval/checkpoint_check.ts";

/** `wiring` is the input's "<stage>.<output>", used to read it from runs/NAME's record. */
export async function resolveArtefactRef(
  project: Project,
  ref: string,
  wiring: string,
): Promise<string> {
  const run = /^(?:\.\/)?runs\/([^/]+)\/?$/.exec(ref);
  if (run) {
    const record = await readRunRecord(project, run[1]!);
    const [stage, output] = wiring.split(".") as [string, string];
    const id = record?.stages[stage]?.outputs[output];
    if (!id) {
      throw new Deno.errors.NotFound(
        `Cannot use runs/${run[1]}: it has no recorded output ${wiring} (run its pipeline first)`,
      );
    }
    return id;
  }
  if (/^[0-9a-f]{8,64}$/.test(ref)) {
    const matches = (await project.store.list()).filter((id) => id.startsWith(ref));
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new UsageError(
        `Cannot resolve artefact id prefix "${ref}": it is ambiguous ` +
          `(${matches.length} ids start with it)`,
      );
    }
    throw new Deno.errors.NotFound(
      `Cannot find artefact "${ref}": it is not in the store (data/store/objects); ` +
        `\`deno task status NAME --json\` lists the output ids run NAME records (a checkpoint ` +
        `is validate's "best" or train's "checkpoints"), and \`ls data/store/objects\` lists ` +
        `every id`,
    );
  }
  throw new UsageError(`Cannot resolve "${ref}": expected an artefact id (hex) or runs/NAME`);
}

/**
 * As resolveArtefactRef, plus a checkpoint file, which is checked (against the shards' image
 * shape and notions when `shards` is given) and only then imported into the store.
 */
export async function resolveCheckpointRef(
  project: Project,
  ref: string,
  wiring: string,
  shards?: ShardFacts,
): Promise<string> {
  if (!ref.endsWith(".safetensors")) return await resolveArtefactRef(project, ref, wiring);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(ref);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`Cannot read checkpoint file "${ref}": it does not exist`);
    }
    throw error;
  }
  // TensorFlow.js loads only for a checkpoint file, not for every stage command.
  const { checkCheckpointBytes } = await import("../eval/checkpoint_check.ts");
  checkCheckpointBytes(bytes, ref, shards);
  const draft = await project.store.draft();
  await Deno.writeFile(join(draft.dir, basename(ref)), bytes);
  return await draft.commit();
}
