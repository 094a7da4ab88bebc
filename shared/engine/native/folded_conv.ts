/**
 * Evaluation-mode convolution weights with batch norm folded in: filter w * s and bias
 * beta - mean * s, s = gamma / sqrt(var + eps). Embedding a catalog runs the same weights over
 * many batches, so the folded pair is kept per filter tensor and rebuilt only when any of the
 * five inputs is a new tensor (tfjs gives a variable new data on every assign).
 */
import * as tf from "@tensorflow/tfjs";
import type { BatchNormParams } from "../../model/net_ops.ts";

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
  tf.dispose([entry.filter, entry.bias]);
  folded.delete(key);
}

/** Drops entries whose filter tensor was disposed (a disposed model's weights). */
function sweep(): void {
  for (const [key, entry] of folded) if (key.isDisposed) release(key, entry);
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
  sweep();
  const [filter, bias] = tf.tidy(() => {
    const scale = tf.mul(bn.gamma, tf.rsqrt(tf.add(bn.runningVar, eps)));
    return [
      tf.keep(tf.mul(w, scale) as tf.Tensor4D),
      tf.keep(tf.sub(bn.beta, tf.mul(bn.runningMean, scale)) as tf.Tensor1D),
    ];
  }) as [tf.Tensor4D, tf.Tensor1D];
  const entry = { sources, eps, filter, bias };
  folded.set(w, entry);
  return entry;
}

/** How many folded pairs are held (for tests). */
export function foldedCount(): number {
  sweep();
  return folded.size;
}
