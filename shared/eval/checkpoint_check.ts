/**
 * A checkpoint file a user names on the command line is checked before anything is stored:
 * it parses, records its condition names, its tensors are exactly the recorded model's (names
 * and shapes) and hold finite numbers, and, when the shards are known, it takes their image
 * shape and was trained on notions they have. Errors name the user's file, not a store copy.
 */
import { decodeCheckpoint, modelFromCheckpoint } from "../weights/checkpoint.ts";
import { conditionNamesOf } from "../artefacts/checkpoint_meta.ts";
import { checkImageShape, type ImageShape } from "./image_shape.ts";

/** The shards a checkpoint is to be evaluated on: their image shape and notion names. */
export interface ShardFacts extends ImageShape {
  readonly notions: readonly string[];
}

export function checkCheckpointBytes(bytes: Uint8Array, source: string, shards?: ShardFacts) {
  const checkpoint = decodeCheckpoint(bytes, source);
  const names = conditionNamesOf(checkpoint, source);
  for (const [name, tensor] of [...checkpoint.weights, ...checkpoint.optimiser]) {
    if (!(tensor.data instanceof Float32Array)) continue;
    const at = tensor.data.findIndex((value) => !Number.isFinite(value));
    if (at >= 0) {
      throw new RangeError(
        `Cannot load checkpoint "${source}": tensor "${name}" holds ${tensor.data[at]} at ` +
          `element ${at}, expected finite numbers (a diverged or damaged training)`,
      );
    }
  }
  try {
    modelFromCheckpoint(checkpoint, source).dispose();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TypeError(
      message.includes(source)
        ? message
        : `Cannot load checkpoint "${source}": ${message} (its tensors do not fit its model)`,
      { cause: error },
    );
  }
  if (!shards) return;
  checkImageShape(checkpoint, shards, source);
  const lacking = names.find((name) => !shards.notions.includes(name));
  if (lacking !== undefined) {
    throw new TypeError(
      `Cannot evaluate checkpoint "${source}" on these shards: it was trained on notion ` +
        `"${lacking}", which these shards lack (they have: ${shards.notions.join(", ")})`,
    );
  }
}
