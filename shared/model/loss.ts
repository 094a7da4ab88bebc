/**
 * The CSN loss and accuracy, exactly as docs/csn.md "Triplets, loss, optimiser":
 *   dist_a = D_c(anchor, far), dist_b = D_c(anchor, close), D_c = || f(x)*m_c - f(y)*m_c ||_2
 *   triplet = mean(max(0, dist_b - dist_a + margin))
 *   embed   = mean over the 3 image sets of ||E||_2 (all entries) / sqrt(n)
 *   mask    = mean over the 3 image sets of ||M||_1 (the batch's mask rows) / n
 *   total   = triplet + 5e-3 * embed + 5e-4 * mask
 */
import * as tf from "@tensorflow/tfjs";

export interface LossWeights {
  readonly margin: number;
  readonly embed: number;
  readonly mask: number;
}

export const REFERENCE_LOSS: LossWeights = { margin: 0.2, embed: 5e-3, mask: 5e-4 };

/** Embeddings [n, d] of each image set; mask rows [n, d] or null (no masks: mask loss 0). */
export interface LossInput {
  readonly anchor: tf.Tensor2D;
  readonly far: tf.Tensor2D;
  readonly close: tf.Tensor2D;
  readonly masks: tf.Tensor2D | null;
}

export interface LossParts {
  readonly total: tf.Scalar;
  readonly triplet: tf.Scalar;
  readonly embed: tf.Scalar;
  readonly mask: tf.Scalar;
  readonly distA: tf.Tensor1D;
  readonly distB: tf.Tensor1D;
}

/** The whole loss as a backend's own kernels: the same values and gradients (to float32
 * rounding) in a few calls instead of about 188 small kernel calls forward and backward (fixed
 * masks; 213 with learned masks). */
export type FusedLoss = (input: LossInput, weights: LossWeights) => LossParts;

const fusedLoss = new Map<string, FusedLoss>();

export function registerFusedLoss(backendName: string, loss: FusedLoss): void {
  fusedLoss.set(backendName, loss);
}

/** sqrt with its gradient kept finite at 0 (PyTorch's pairwise_distance adds eps = 1e-6 for
 * the same reason); changes values below 1e-6 only. */
function safeSqrt(x: tf.Tensor): tf.Tensor {
  return tf.sqrt(tf.maximum(x, 1e-12));
}

export function tripletLoss(input: LossInput, weights: LossWeights = REFERENCE_LOSS): LossParts {
  const n = input.anchor.shape[0];
  if (n === 0) {
    throw new RangeError(
      "Cannot compute the triplet loss: the batch is empty, expected at least one triplet",
    );
  }
  const fused = fusedLoss.get(tf.getBackend());
  if (fused) return fused(input, weights);
  const mask = (e: tf.Tensor2D) => input.masks ? tf.mul(e, input.masks) : e;
  const a = mask(input.anchor), f = mask(input.far), c = mask(input.close);
  const distA = safeSqrt(tf.sum(tf.squaredDifference(a, f), 1)) as tf.Tensor1D;
  const distB = safeSqrt(tf.sum(tf.squaredDifference(a, c), 1)) as tf.Tensor1D;
  const triplet = tf.mean(tf.relu(tf.add(tf.sub(distB, distA), weights.margin))) as tf.Scalar;
  const norms = [input.anchor, input.far, input.close].map((e) => safeSqrt(tf.sum(tf.square(e))));
  const embed = tf.div(tf.addN(norms), 3 * Math.sqrt(n)) as tf.Scalar;
  // The three image sets share the triplet's condition, so their mask rows are the same.
  const maskLoss = input.masks ? tf.div(tf.sum(tf.abs(input.masks)), n) as tf.Scalar : tf.scalar(0);
  const total = tf.addN([
    triplet,
    tf.mul(embed, weights.embed),
    tf.mul(maskLoss, weights.mask),
  ]) as tf.Scalar;
  return { total, triplet, embed, mask: maskLoss, distA, distB };
}

export interface Accuracy {
  /** Fraction of triplets with dist_a > dist_b (NaN for an empty batch). */
  readonly accuracy: number;
  readonly correct: number;
  readonly count: number;
  /** Per condition id: correct and count (accuracy = correct / count; NaN when count is 0). */
  readonly perCondition: readonly { correct: number; count: number; accuracy: number }[];
}

export function tripletAccuracy(
  distA: ArrayLike<number>,
  distB: ArrayLike<number>,
  conditions: ArrayLike<number>,
  nConditions: number,
): Accuracy {
  if (distA.length !== distB.length || distA.length !== conditions.length) {
    throw new RangeError(
      `Cannot compute triplet accuracy: lengths differ, expected equal (dist_a ${distA.length}, ` +
        `dist_b ${distB.length}, conditions ${conditions.length})`,
    );
  }
  const per = Array.from({ length: nConditions }, () => ({ correct: 0, count: 0 }));
  let correct = 0;
  for (let i = 0; i < distA.length; i++) {
    const c = conditions[i]!;
    const slot = per[c];
    if (!slot) {
      throw new RangeError(
        `Cannot compute triplet accuracy: condition ${c} is not in 0..${nConditions - 1}`,
      );
    }
    const ok = distA[i]! > distB[i]! ? 1 : 0;
    correct += ok;
    slot.correct += ok;
    slot.count++;
  }
  return {
    accuracy: correct / distA.length,
    correct,
    count: distA.length,
    perCondition: per.map((p) => ({ ...p, accuracy: p.correct / p.count })),
  };
}
