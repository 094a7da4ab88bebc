/**
 * Evaluation-mode convolution weights with batch norm folded in: filter w * s and bias
 * beta - mean * s, s = gamma / sqrt(var + eps). Embedding a catalog runs the same weights over
 * many batches, so the folded pair is kept per filter tensor and rebuilt only when any of the
 * five inputs is a new tensor (tfjs gives a variable new data on every assign). A pair goes
 * when tfjs frees the filter data it was built from (a new assign, or the model's dispose).
 */
import * as tf from "@tensorflow/tfjs";
import type { BatchNormParams } from "../../model/net_ops.ts";
import { nativeContext } from "./context.ts";
import type { DisposingBackend } from "./reorder_cache.ts";

interface Folded {
  readonly sources: readonly object[];
  readonly eps: number;
  readonly filter: tf.Tensor4D;
  readonly bias: tf.Tensor1D;
}

const folded = new Map<tf.Tensor, Folded>();

function sourcesOf(w: tf.Tensor, bn: BatchNormParams): object[] {
  return [w, bn.gamma, bn.beta, bn.runningMean, bn.runningVar].map((t) => t.dataId);
}

function fresh(entry: Folded, sources: readonly object[], eps: number): boolean {
  return entry.eps === eps && entry.sources.every((s, i) => s === sources[i]);
}

function release(key: tf.Tensor, entry: Folded): void {
  if (folded.get(key) !== entry) return; // already replaced or released
  tf.dispose([entry.filter, entry.bias]);
  folded.delete(key);
}

/** The folded filter and bias for `w` and `bn`; owned by this cache (do not dispose). */
export function foldedConv(
  w: tf.Tensor4D,
  bn: BatchNormParams,
  eps: number,
): { filter: tf.Tensor4D; bias: tf.Tensor1D } {
  const sources = sourcesOf(w, bn);
  const cached = folded.get(w);
  if (cached && fresh(cached, sources, eps)) return cached;
  if (cached) release(w, cached);
  const [filter, bias] = tf.tidy(() => {
    const scale = tf.mul(bn.gamma, tf.rsqrt(tf.add(bn.runningVar, eps)));
    return [
      tf.keep(tf.mul(w, scale) as tf.Tensor4D),
      tf.keep(tf.sub(bn.beta, tf.mul(bn.runningMean, scale)) as tf.Tensor1D),
    ];
  }) as [tf.Tensor4D, tf.Tensor1D];
  const entry = { sources, eps, filter, bias };
  folded.set(w, entry);
  const kept = nativeContext().reordered;
  kept.watch(tf.backend() as unknown as DisposingBackend);
  kept.onDispose(w.dataId, () => release(w, entry));
  return entry;
}

/** How many folded pairs are held (for tests). */
export function foldedCount(): number {
  return folded.size;
}
