/**
 * What a training-mode batch norm hands its backward pass, in one tensor: the batch mean and
 * biased variance (C floats each) and, when ReLU is fused, oneDNN's workspace after them. One
 * tensor instead of three, because tfjs clones every tensor a gradient saves, at a fixed
 * bookkeeping cost per tensor. The running statistics are updated here too, in the forward
 * kernel, so that no elementwise tfjs ops remain for them.
 *
 * A batch of several image sets (anchor, far and close images in one pass) has statistics per
 * set: the tensor then holds every set's means, then every set's variances, then each set's
 * workspace.
 */
import type { TensorInfo } from "@tensorflow/tfjs";
import { updateRunningStatsF32 } from "../../model/batch_norm.ts";
import { heapFloats, type WasmHeapBackend } from "./heap.ts";
import type { Pointer } from "./dnnl_abi.ts";

/** Where each part sits in the saved tensor, in float32 elements. */
export interface StatsLayout {
  readonly channels: number;
  readonly sets: number;
  /** Where the variances start (after `sets` rows of C means). */
  readonly variance: number;
  /** Where the first set's workspace starts: 64-byte aligned, like oneDNN's own buffers. */
  readonly workspace: number;
  /** From one set's workspace to the next (64-byte aligned). */
  readonly workspaceStride: number;
  readonly length: number;
}

const align16 = (floats: number) => Math.ceil(floats / 16) * 16;

export function statsLayout(channels: number, workspaceBytes: number, sets = 1): StatsLayout {
  const workspace = align16(2 * sets * channels);
  const workspaceStride = align16(Math.ceil(workspaceBytes / 4));
  return {
    channels,
    sets,
    variance: sets * channels,
    workspace,
    workspaceStride,
    length: workspace + sets * workspaceStride,
  };
}

/** The oneDNN arguments mean, variance (and workspace) of image set `set` in the stats tensor. */
export function statsAddresses(
  base: Pointer,
  layout: StatsLayout,
  withWorkspace: boolean,
  set = 0,
): Pointer[] {
  const at = (floats: number) => base + BigInt(4 * floats);
  const c = layout.channels;
  const stats = [at(set * c), at(layout.variance + set * c)];
  return withWorkspace ? [...stats, at(layout.workspace + set * layout.workspaceStride)] : stats;
}

/** Writes the new running statistics from the batch's (in `stats`) and the old ones: one
 * update per image set, in set order, as that many batch norms one after another would. */
export function writeRunningStats(
  b: WasmHeapBackend,
  stats: TensorInfo,
  layout: StatsLayout,
  old: { readonly mean: TensorInfo; readonly variance: TensorInfo },
  out: { readonly mean: TensorInfo; readonly variance: TensorInfo },
  countPerSet: number,
  momentum: number,
): void {
  const c = layout.channels;
  const to = { mean: heapFloats(b, out.mean, 0, c), variance: heapFloats(b, out.variance, 0, c) };
  let from: { mean: Float32Array; variance: Float32Array } = {
    mean: heapFloats(b, old.mean, 0, c),
    variance: heapFloats(b, old.variance, 0, c),
  };
  for (let s = 0; s < layout.sets; s++) {
    const batch = {
      mean: heapFloats(b, stats, s * c, c),
      variance: heapFloats(b, stats, layout.variance + s * c, c),
    };
    // In place after the first set: each channel is read before it is written.
    updateRunningStatsF32(batch, from, to, countPerSet, momentum);
    from = to;
  }
}
