/**
 * A checkpoint file a user names on the command line is checked before anything is stored:
 * it parses, records its condition names, its tensors are exactly the recorded model's (names
 * and shapes), and, when the shards are known, it takes their image shape. Errors name the
 * user's file, not a store copy.
 */
import { decodeCheckpoint, modelFromCheckpoint } from "../weights/checkpoint.ts";
import { conditionNamesOf } from "../artefacts/checkpoint_meta.ts";
import { checkImageShape, type ImageShape } from "./image_shape.ts";

export function checkCheckpointBytes(bytes: Uint8Array, source: string, shards?: ImageShape) {
  const checkpoint = decodeCheckpoint(bytes, source);
  conditionNamesOf(checkpoint, source);
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
  if (shards) checkImageShape(checkpoint, shards, source);
}
