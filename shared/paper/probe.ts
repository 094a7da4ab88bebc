/**
 * Off-task linear probe, pure: a nearest-class-mean classifier fitted on frozen embeddings
 * (optionally one masked subspace) of the training images and scored on the test images, for
 * a label the triplets never used. Nearest class mean is a linear classifier with no
 * hyperparameters to tune, so CSN and the standard network are compared on equal terms.
 */
import { maskedSubspace } from "../eval/masked.ts";

export interface ProbeSet {
  /** rows x d embeddings. */
  readonly embeddings: Float32Array;
  /** Class per row (-1: unlabelled, skipped). */
  readonly labels: Int32Array;
}

export interface ProbeScore {
  /** Test rows with a label. */
  readonly test: number;
  readonly train: number;
  readonly accuracy: number;
  /** Share of the test rows in their most frequent class (what always guessing it scores). */
  readonly chance: number;
  /** Mean over classes of the per-class accuracy (robust to class imbalance). */
  readonly balanced: number;
}

/** Class means of the labelled rows of a (dims-wide) subspace; NaN rows for absent classes. */
function classMeans(data: Float64Array, dims: number, labels: Int32Array, classes: number) {
  const sums = new Float64Array(classes * dims);
  const counts = new Float64Array(classes);
  labels.forEach((c, i) => {
    if (c < 0) return;
    counts[c]!++;
    for (let k = 0; k < dims; k++) sums[c * dims + k]! += data[i * dims + k]!;
  });
  for (let c = 0; c < classes; c++) {
    for (let k = 0; k < dims; k++) sums[c * dims + k] = sums[c * dims + k]! / counts[c]!;
  }
  return { means: sums, counts };
}

/**
 * Fits class means on `train` and classifies `test` by the nearest one (squared Euclidean
 * distance, ties to the lower class id), in the subspace `mask` keeps (all ones: the whole
 * embedding).
 */
export function nearestMeanProbe(
  train: ProbeSet,
  test: ProbeSet,
  d: number,
  classes: number,
  mask: Float32Array = new Float32Array(d).fill(1),
): ProbeScore {
  const a = maskedSubspace(train.embeddings, d, mask);
  const b = maskedSubspace(test.embeddings, d, mask);
  for (const [name, set, rows] of [["train", train, a.rows], ["test", test, b.rows]] as const) {
    if (set.labels.length !== rows) {
      throw new RangeError(
        `Cannot probe: ${name} has ${rows} embeddings but ${set.labels.length} labels`,
      );
    }
    if (set.labels.some((c) => c >= classes)) {
      throw new RangeError(`Cannot probe: ${name} labels go beyond the ${classes} classes`);
    }
  }
  const { means, counts } = classMeans(a.data, a.dims, train.labels, classes);
  const hits = new Float64Array(classes), seen = new Float64Array(classes);
  for (let i = 0; i < b.rows; i++) {
    const truth = test.labels[i]!;
    if (truth < 0) continue;
    let best = -1, bestDistance = Infinity;
    for (let c = 0; c < classes; c++) {
      if (counts[c] === 0) continue;
      let distance = 0;
      for (let k = 0; k < b.dims; k++) {
        const diff = b.data[i * b.dims + k]! - means[c * a.dims + k]!;
        distance += diff * diff;
      }
      if (distance < bestDistance) [best, bestDistance] = [c, distance];
    }
    seen[truth]!++;
    if (best === truth) hits[truth]!++;
  }
  const testCount = seen.reduce((s, v) => s + v, 0);
  const trainCount = counts.reduce((s, v) => s + v, 0);
  if (testCount === 0 || trainCount === 0) {
    throw new RangeError(`Cannot probe: ${trainCount} labelled train and ${testCount} test rows`);
  }
  const present = [...seen.keys()].filter((c) => seen[c]! > 0);
  return {
    test: testCount,
    train: trainCount,
    accuracy: hits.reduce((s, v) => s + v, 0) / testCount,
    chance: Math.max(...seen) / testCount,
    balanced: present.reduce((s, c) => s + hits[c]! / seen[c]!, 0) / present.length,
  };
}
