/** Tiny CSN networks (width 4, 32x32 grayscale) and batches, so model tests run in seconds. */
import assert from "node:assert/strict";
import { CsnModel, type TripletImages } from "../../shared/model/csn.ts";
import type { BackboneConfig, Mode } from "../../shared/model/choices.ts";
import type { MaskKind } from "../../shared/model/masks.ts";
import { values } from "./values.ts";

export const quiet = () => {};
export const TINY: BackboneConfig = { inChannels: 1, inputSize: 32, width: 4, embedDim: 8 };

export function tinyBatch(model: CsnModel, n: number, seed: number): TripletImages {
  const size = model.imageSize;
  return {
    anchor: values(n * size, seed),
    far: values(n * size, seed + 1),
    close: values(n * size, seed + 2),
    conditions: Int32Array.from({ length: n }, (_, i) => i % model.config.nConditions),
  };
}

export function model(mode: Mode, masks: MaskKind = "fixed", seed = 3): CsnModel {
  return new CsnModel({ mode, masks, nConditions: 2, backbone: TINY, seed });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
