/**
 * Triplet accuracy and margin ranking loss from cached embeddings (each image embedded once,
 * then every triplet is scored from the table). Under condition c, dist(i, j) =
 * || (e_i - e_j) * m_c ||_2; a triplet (anchor, far, close, c) is correct when
 * dist(anchor, far) > dist(anchor, close), strictly, as in the reference implementation.
 */
import { checkEmbeddings, checkFinite, rowsOf } from "./masked.ts";

export interface TripletScores {
  /** Fraction of triplets ranked correctly (NaN when there are none). */
  readonly accuracy: number;
  /** Accuracy per condition (mask row); NaN for a condition without triplets. */
  readonly per_condition: number[];
  /** Triplets per condition. */
  readonly counts: number[];
  /** mean(max(0, dist_close - dist_far + margin)) over all triplets (NaN when none). */
  readonly loss: number;
  readonly triplets: number;
}

/** The squared masks m_c^2, so a masked squared distance is one weighted sum. */
function squaredMasks(masks: Float32Array): Float64Array {
  const out = new Float64Array(masks.length);
  for (let i = 0; i < masks.length; i++) out[i] = masks[i]! * masks[i]!;
  return out;
}

/**
 * Scores triplets given as quads (anchor, far, close, condition) against n x d embeddings
 * and conditions x d masks. Accumulates in float64.
 */
export function scoreTriplets(
  embeddings: Float32Array,
  d: number,
  masks: Float32Array,
  triplets: Int32Array,
  margin = 0.2,
): TripletScores {
  const n = checkEmbeddings(embeddings, d);
  const conditions = rowsOf("masks", masks, d);
  checkFinite("masks", masks, d);
  const count = rowsOf("triplets", triplets, 4);
  if (!Number.isFinite(margin)) {
    throw new RangeError(`Cannot score triplets: margin is ${margin}, expected a finite number`);
  }
  const m2 = squaredMasks(masks);
  const correct = new Float64Array(conditions);
  const counts = new Array<number>(conditions).fill(0);
  let loss = 0;
  for (let t = 0; t < count; t++) {
    const q = 4 * t;
    const a = triplets[q]!, f = triplets[q + 1]!, c = triplets[q + 2]!, cond = triplets[q + 3]!;
    if (!(a >= 0 && a < n && f >= 0 && f < n && c >= 0 && c < n)) {
      throw new RangeError(
        `Cannot score triplet ${t}: images (${a}, ${f}, ${c}), expected indices in [0, ${n})`,
      );
    }
    if (!(cond >= 0 && cond < conditions)) {
      throw new RangeError(
        `Cannot score triplet ${t}: condition ${cond}, expected [0, ${conditions}) (mask rows)`,
      );
    }
    const ao = a * d, fo = f * d, co = c * d, mo = cond * d;
    let far = 0, close = 0;
    for (let k = 0; k < d; k++) {
      const w = m2[mo + k]!;
      const x = embeddings[ao + k]!;
      const df = x - embeddings[fo + k]!;
      const dc = x - embeddings[co + k]!;
      far += w * df * df;
      close += w * dc * dc;
    }
    const distFar = Math.sqrt(far), distClose = Math.sqrt(close);
    if (distFar > distClose) correct[cond]!++;
    counts[cond]!++;
    loss += Math.max(0, distClose - distFar + margin);
  }
  let right = 0;
  for (const value of correct) right += value;
  return {
    accuracy: count ? right / count : NaN,
    per_condition: counts.map((k, i) => (k ? correct[i]! / k : NaN)),
    counts,
    loss: count ? loss / count : NaN,
    triplets: count,
  };
}
