/** A deterministic triplet batch for a model config: `n` triplets of test values, conditions
 * cycling through the config's. */
import type { ModelConfig, TripletImages } from "../../shared/model/csn.ts";
import { values } from "./values.ts";

export function tripletBatch(config: ModelConfig, n: number): TripletImages {
  const size = config.backbone.inputSize ** 2 * config.backbone.inChannels;
  return {
    anchor: values(n * size, 11),
    far: values(n * size, 12),
    close: values(n * size, 13),
    conditions: Int32Array.from({ length: n }, (_, i) => i % config.nConditions),
  };
}
