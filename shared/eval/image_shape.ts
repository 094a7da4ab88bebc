/** A model takes images of one shape: its checkpoint and the shards must agree. */
import type { ModelConfig } from "../model/csn.ts";

export interface ImageShape {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

/** The model's input must be the shards' image shape; `source` names the checkpoint. */
export function checkImageShape(
  model: { readonly config: ModelConfig },
  shards: ImageShape,
  source: string,
): void {
  const { inputSize, inChannels } = model.config.backbone;
  if (shards.height !== inputSize || shards.width !== inputSize || shards.channels !== inChannels) {
    throw new RangeError(
      `Cannot evaluate checkpoint "${source}" on these shards: it takes ` +
        `${inputSize}x${inputSize}x${inChannels} images, the shards hold ` +
        `${shards.height}x${shards.width}x${shards.channels} (a model of another shape or dataset)`,
    );
  }
}
