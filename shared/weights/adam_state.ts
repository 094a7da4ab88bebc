/**
 * Adam's state as checkpoints store it: each param's moments under PyTorch's state names,
 * "<param>.exp_avg" (m) and "<param>.exp_avg_sq" (v), F32, plus the step, so that a resume
 * continues exactly.
 */
import * as tf from "@tensorflow/tfjs";
import type { Adam } from "../model/optim.ts";
import type { SafeTensor } from "./dtype.ts";

function named(adam: Adam): [string, tf.Variable][] {
  return adam.moments().flatMap(({ m, v }, i) => {
    const name = adam.params[i]!.name;
    return [[`${name}.exp_avg`, m], [`${name}.exp_avg_sq`, v]] as [string, tf.Variable][];
  });
}

/** m and v of every param, by state name. */
export async function exportAdamState(adam: Adam): Promise<Map<string, SafeTensor>> {
  const out = new Map<string, SafeTensor>();
  for (const [name, t] of named(adam)) {
    out.set(name, { dtype: "F32", shape: [...t.shape], data: await t.data() as Float32Array });
  }
  return out;
}

/** Restores what exportAdamState wrote; every entry must be present with the right shape. */
export function importAdamState(
  adam: Adam,
  state: ReadonlyMap<string, SafeTensor>,
  step: number,
): void {
  if (!Number.isInteger(step) || step < 0) {
    throw new RangeError(
      `Cannot restore the Adam state: step is ${step}, expected an integer >= 0`,
    );
  }
  for (const [name, t] of named(adam)) {
    const s = state.get(name);
    if (!s) throw new Error(`Cannot restore the Adam state: "${name}" is missing`);
    if (s.dtype !== "F32" || s.shape.join(",") !== t.shape.join(",")) {
      throw new RangeError(
        `Cannot restore the Adam state: "${name}" is ${s.dtype} [${s.shape}], expected F32 ` +
          `[${t.shape}]`,
      );
    }
    tf.tidy(() => t.assign(tf.tensor(s.data as Float32Array, t.shape)));
  }
  adam.step = step;
}
