/**
 * A checkpoint file a user names on the command line is checked before anything is stored:
 * it parses, records its condition names, its tensors are exactly the recorded model's (names
 * and shapes), and, when the shards are known, it takes their image shape. Errors name the
 * user's file, not a store copy.
 */
import { decodeCheckpoint, modelFromCheckpoint } from "../weights/checkpoint.ts";

export interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export function checkCheckpointBytes(bytes: Uint8Array, source: string, shards?: ImageShape) {
  const checkpoint = decodeCheckpoint(bytes, source);
  const params = checkpoint.meta.params as { condition_names?: unknown } | null;
  const names = params?.condition_names;
  const n = checkpoint.config?.nConditions;
  if (!Array.isArray(names) || names.length !== n) {
    throw new TypeError(`Checkpoint "${source}" does not record its condition names`);
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
  const { inputSize, inChannels } = checkpoint.config.backbone;
  if (
    shards &&
    (shards.height !== inputSize || shards.width !== inputSize || shards.channels !== inChannels)
  ) {
    throw new RangeError(
      `Checkpoint "${source}" takes ${inputSize}x${inputSize}x${inChannels} images, but the ` +
        `shards hold ${shards.height}x${shards.width}x${shards.channels}: a model of another ` +
        `shape or dataset`,
    );
  }
}
