/**
 * The element loop of the native Adam kernel, in float32 as PyTorch rounds it (see
 * adam_kernel.ts). A float32 operation computed in float64 and rounded once gives the
 * correctly rounded float32 result for +, -, *, / and sqrt, so Math.fround after each step is
 * exact float32 arithmetic.
 */
import type { AdamScalars } from "../../model/optim.ts";

/** [p, m, v, g] -> [p', m', v'], all the same length. */
export function adamLoop(
  inputs: readonly [Float32Array, Float32Array, Float32Array, Float32Array],
  outputs: readonly [Float32Array, Float32Array, Float32Array],
  s: AdamScalars,
): void {
  const [P, M, V, G] = inputs;
  const [P2, M2, V2] = outputs;
  const f = Math.fround;
  const b1 = f(s.beta1), c1 = f(1 - s.beta1), b2 = f(s.beta2), c2 = f(1 - s.beta2);
  const eps = f(s.epsilon), step = f(s.stepSize), root = f(s.sqrtBc2);
  for (let i = 0; i < P.length; i++) {
    const gi = G[i]!;
    const mi = f(f(M[i]! * b1) + f(gi * c1));
    const vi = f(f(V[i]! * b2) + f(f(gi * gi) * c2));
    const denom = f(f(f(Math.sqrt(vi)) / root) + eps);
    M2[i] = mi;
    V2[i] = vi;
    P2[i] = f(P[i]! - f(f(mi / denom) * step));
  }
}
