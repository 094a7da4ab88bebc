/**
 * The CSN loss (shared/model/loss.ts) and its gradient as two plain loops, for the native
 * backend's fused loss kernels: about 188 tfjs kernel calls per micro-batch forward and backward
 * (213 with learned masks), each paying the engine's bookkeeping, become three or four.
 * Sums run in float64, so results differ from the op-by-op float32 path by float32 rounding
 * only. The same conventions as the tfjs ops: sqrt(max(s, 1e-12)) (gradient passed where
 * s >= 1e-12), the hinge's gradient 0 at exactly 0, |x|'s gradient -1 at 0 (tfjs's Abs).
 */
import type { LossWeights } from "../../model/loss.ts";

/** Row-major [n, d] embeddings of the three image sets and the mask rows (null: no masks). */
export interface LossArrays {
  readonly n: number;
  readonly d: number;
  readonly anchor: Float32Array;
  readonly far: Float32Array;
  readonly close: Float32Array;
  readonly masks: Float32Array | null;
}

export interface LossValues {
  readonly total: number;
  readonly triplet: number;
  readonly embed: number;
  readonly mask: number;
  readonly distA: Float64Array;
  readonly distB: Float64Array;
}

const FLOOR = 1e-12;

/** Squared masked distances anchor-far (sA) and anchor-close (sB) per triplet. */
function squaredDistances(x: LossArrays): { sA: Float64Array; sB: Float64Array } {
  const { n, d, anchor: a, far: f, close: c, masks: m } = x;
  const sA = new Float64Array(n), sB = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s1 = 0, s2 = 0;
    for (let k = i * d; k < (i + 1) * d; k++) {
      const w = m ? m[k]! : 1;
      const u = a[k]! * w - f[k]! * w, v = a[k]! * w - c[k]! * w;
      s1 += u * u, s2 += v * v;
    }
    sA[i] = s1, sB[i] = s2;
  }
  return { sA, sB };
}

function squaredNorm(e: Float32Array): number {
  let s = 0;
  for (let k = 0; k < e.length; k++) s += e[k]! * e[k]!;
  return s;
}

export function lossForward(x: LossArrays, weights: LossWeights): LossValues {
  const { n, masks } = x;
  const { sA, sB } = squaredDistances(x);
  const distA = sA.map((s) => Math.sqrt(Math.max(s, FLOOR)));
  const distB = sB.map((s) => Math.sqrt(Math.max(s, FLOOR)));
  let hinge = 0;
  for (let i = 0; i < n; i++) hinge += Math.max(0, distB[i]! - distA[i]! + weights.margin);
  const triplet = hinge / n;
  const norms = [x.anchor, x.far, x.close].map((e) => Math.sqrt(Math.max(squaredNorm(e), FLOOR)));
  const embed = (norms[0]! + norms[1]! + norms[2]!) / (3 * Math.sqrt(n));
  let l1 = 0;
  if (masks) { for (let k = 0; k < masks.length; k++) l1 += Math.abs(masks[k]!); }
  const mask = l1 / n;
  const total = triplet + weights.embed * embed + weights.mask * mask;
  return { total, triplet, embed, mask, distA, distB };
}

/** Upstream gradients of the loss's outputs (scalars, and one value per triplet). */
export interface LossUpstream {
  readonly total: number;
  readonly triplet: number;
  readonly embed: number;
  readonly mask: number;
  readonly distA: Float32Array;
  readonly distB: Float32Array;
}

export type LossInputName = "anchor" | "far" | "close" | "masks";

/** The gradient of the loss's outputs, weighted by `dy`, with respect to one input. */
export function lossGradient(
  x: LossArrays,
  weights: LossWeights,
  dy: LossUpstream,
  wrt: LossInputName,
): Float64Array {
  const { n, d, anchor: a, far: f, close: c, masks: m } = x;
  const { sA, sB } = squaredDistances(x);
  const dTriplet = (dy.total + dy.triplet) / n;
  // Per triplet: the factor of d(s)/d(masked difference) for each distance.
  const gA = new Float64Array(n), gB = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const distA = Math.sqrt(Math.max(sA[i]!, FLOOR)), distB = Math.sqrt(Math.max(sB[i]!, FLOOR));
    const active = distB - distA + weights.margin > 0 ? dTriplet : 0;
    const ddA = dy.distA[i]! - active, ddB = dy.distB[i]! + active;
    // d sqrt(max(s, floor)) / ds = 1 / (2 sqrt(s)) where s >= floor; d s / d u = 2 u.
    gA[i] = sA[i]! >= FLOOR ? ddA / distA : 0;
    gB[i] = sB[i]! >= FLOOR ? ddB / distB : 0;
  }
  const out = new Float64Array(n * d);
  if (wrt === "masks") {
    if (!m) throw new TypeError("Cannot take the loss gradient of the masks: there are none");
    const dMask = (dy.total * weights.mask + dy.mask) / n;
    for (let i = 0; i < n; i++) {
      for (let k = i * d; k < (i + 1) * d; k++) {
        const u = (a[k]! - f[k]!) * m[k]!, v = (a[k]! - c[k]!) * m[k]!;
        const sign = m[k]! > 0 ? 1 : -1;
        out[k] = gA[i]! * u * (a[k]! - f[k]!) + gB[i]! * v * (a[k]! - c[k]!) + dMask * sign;
      }
    }
    return out;
  }
  const e = wrt === "anchor" ? a : wrt === "far" ? f : c;
  const s = squaredNorm(e);
  const dNorm = (dy.total * weights.embed + dy.embed) / (3 * Math.sqrt(n));
  const dE = s >= FLOOR ? dNorm / Math.sqrt(s) : 0;
  for (let i = 0; i < n; i++) {
    for (let k = i * d; k < (i + 1) * d; k++) {
      const w = m ? m[k]! : 1;
      const u = (a[k]! - f[k]!) * w * w, v = (a[k]! - c[k]!) * w * w;
      const g = wrt === "anchor"
        ? gA[i]! * u + gB[i]! * v
        : wrt === "far"
        ? -gA[i]! * u
        : -gB[i]! * v;
      out[k] = g + dE * e[k]!;
    }
  }
  return out;
}
