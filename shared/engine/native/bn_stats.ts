/**
 * What a training-mode batch norm hands its backward pass, in one tensor: the batch mean and
 * biased variance (C floats each) and, when ReLU is fused, oneDNN's workspace after them. One
 * tensor instead of three, because tfjs clones every tensor a gradient saves, at a fixed
 * bookkeeping cost per tensor. The running statistics are updated here too, in the forward
 * kernel, so that no elementwise tfjs ops remain for them.
 */
import type { TensorInfo } from "@tensorflow/tfjs";
import { updateRunningStatsF32 } from "../../model/batch_norm.ts";
import type { WasmHeapBackend } from "./heap.ts";
import type { Pointer } from "./dnnl_abi.ts";

/** Where each part sits in the saved tensor, in float32 elements. */
export interface StatsLayout {
  readonly variance: number;
  /** 64-byte aligned, like the buffers oneDNN allocates itself. */
  readonly workspace: number;
  readonly length: number;
}

export function statsLayout(channels: number, workspaceBytes: number): StatsLayout {
  const workspace = Math.ceil((2 * channels) / 16) * 16;
  return { variance: channels, workspace, length: workspace + Math.ceil(workspaceBytes / 4) };
}

/** The oneDNN arguments mean, variance (and workspace) at their places in the stats tensor. */
export function statsAddresses(
  base: Pointer,
  layout: StatsLayout,
  withWorkspace: boolean,
): Pointer[] {
  const at = (floats: number) => base + BigInt(4 * floats);
  return withWorkspace
    ? [base, at(layout.variance), at(layout.workspace)]
    : [base, at(layout.variance)];
}

function floats(b: WasmHeapBackend, t: TensorInfo, offset: number, length: number): Float32Array {
  const data = b.dataIdMap.get(t.dataId);
  if (!data) throw new Error("Cannot read a tensor's bytes: it was disposed");
  return new Float32Array(b.wasm.HEAPU8.buffer, data.memoryOffset + 4 * offset, length);
}

/** Writes the new running statistics from the batch's (in `stats`) and the old ones. */
export function writeRunningStats(
  b: WasmHeapBackend,
  stats: TensorInfo,
  layout: StatsLayout,
  old: { readonly mean: TensorInfo; readonly variance: TensorInfo },
  out: { readonly mean: TensorInfo; readonly variance: TensorInfo },
  count: number,
  momentum: number,
): void {
  const c = layout.variance;
  updateRunningStatsF32(
    { mean: floats(b, stats, 0, c), variance: floats(b, stats, layout.variance, c) },
    { mean: floats(b, old.mean, 0, c), variance: floats(b, old.variance, 0, c) },
    { mean: floats(b, out.mean, 0, c), variance: floats(b, out.variance, 0, c) },
    count,
    momentum,
  );
}
