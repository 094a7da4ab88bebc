/** Which checkpoint file of a model artefact to evaluate. */
import { join } from "node:path";
import { checkpointName, listCheckpoints } from "../weights/checkpoints_dir.ts";

/**
 * model_best.safetensors (validate's output); else the last epoch checkpoint (train's
 * output); else the artefact's only .safetensors file (an imported export).
 */
export async function checkpointFileIn(dir: string, what: string): Promise<string> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".safetensors")) files.push(entry.name);
  }
  if (files.includes("model_best.safetensors")) return join(dir, "model_best.safetensors");
  const epochs = await listCheckpoints(dir);
  if (epochs.length > 0) return join(dir, checkpointName(epochs.at(-1)!));
  if (files.length === 1) return join(dir, files[0]!);
  throw new TypeError(
    `Cannot pick a checkpoint in ${what}: it holds ${files.length === 0 ? "no" : "several"} ` +
      `.safetensors checkpoints (${files.join(", ") || "none"}); expected ` +
      `model_best.safetensors, epoch-NNN files or one file`,
  );
}
