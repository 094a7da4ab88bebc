/**
 * Model weights <-> PyTorch state_dict layout (as SafeTensors): conv filters OIHW, Linear
 * weights [out, in], BatchNorm num_batches_tracked as I64 scalars. Torchvision's resnet18
 * names, so ImageNet weights (read by pth.ts) load by name, as the paper does.
 */
import * as tf from "@tensorflow/tfjs";
import type { CsnModel } from "../model/csn.ts";
import type { Layout } from "../model/resnet.ts";
import type { SafeTensor } from "./dtype.ts";

const TO_TORCH: Record<Layout, number[] | null> = {
  conv: [3, 2, 0, 1], // HWIO -> OIHW
  linear: [1, 0], // [in, out] -> [out, in]
  plain: null,
};
const FROM_TORCH: Record<Layout, number[] | null> = {
  conv: [2, 3, 1, 0], // OIHW -> HWIO
  linear: [1, 0],
  plain: null,
};

function permute(shape: readonly number[], perm: number[] | null): number[] {
  return perm ? perm.map((p) => shape[p]!) : [...shape];
}

/** Every tensor of the model, PyTorch layouts, in the model's fixed order. */
export async function exportState(model: CsnModel): Promise<Map<string, SafeTensor>> {
  const out = new Map<string, SafeTensor>();
  for (const t of model.tensors) {
    const perm = TO_TORCH[t.layout];
    const v = perm ? tf.transpose(t.variable, perm) : t.variable;
    const data = await v.data() as Float32Array;
    if (perm) v.dispose();
    out.set(t.name, { dtype: "F32", shape: [...v.shape], data });
    if (t.name.endsWith(".running_var")) {
      const bn = t.name.slice(0, -".running_var".length);
      const count = model.backbones.map((b) => b.batchesTracked.get(bn)).find((c) =>
        c !== undefined
      );
      out.set(`${bn}.num_batches_tracked`, {
        dtype: "I64",
        shape: [],
        data: BigInt64Array.of(BigInt(count ?? 0)),
      });
    }
  }
  return out;
}

export interface ImportReport {
  readonly loaded: string[];
  /** Model tensors the state did not provide (kept as initialised). */
  readonly missing: string[];
  /** State entries not used: unknown name, or wrong shape (with the reason). */
  readonly skipped: string[];
}

/**
 * Copies matching tensors into the model. strict: every model tensor must be present with its
 * shape and nothing else may be there (checkpoints). Not strict: copy what matches by name and
 * shape, report the rest (pretrained ImageNet weights, as the reference's resnet18(pretrained)).
 */
export function importState(
  model: CsnModel,
  state: ReadonlyMap<string, SafeTensor>,
  options: { strict: boolean; source?: string },
): ImportReport {
  const source = options.source ?? "state";
  const report: ImportReport = { loaded: [], missing: [], skipped: [] };
  const known = new Set<string>();
  for (const t of model.tensors) {
    known.add(t.name);
    const s = state.get(t.name);
    if (!s) {
      report.missing.push(t.name);
      continue;
    }
    const expected = permute(t.variable.shape, TO_TORCH[t.layout]);
    if (s.dtype !== "F32" || s.shape.join(",") !== expected.join(",")) {
      report.skipped.push(`${t.name}: ${s.dtype} [${s.shape}], expected F32 [${expected}]`);
      continue;
    }
    tf.tidy(() => {
      const raw = tf.tensor(s.data as Float32Array, expected);
      const perm = FROM_TORCH[t.layout];
      t.variable.assign(perm ? tf.transpose(raw, perm) : raw);
    });
    report.loaded.push(t.name);
  }
  for (const b of model.backbones) {
    for (const bn of b.batchesTracked.keys()) {
      const name = `${bn}.num_batches_tracked`;
      known.add(name);
      const s = state.get(name);
      if (s && s.dtype === "I64" && s.data.length === 1) {
        b.batchesTracked.set(bn, Number((s.data as BigInt64Array)[0]));
        report.loaded.push(name);
      } else if (s) report.skipped.push(`${name}: ${s.dtype} [${s.shape}], expected I64 []`);
      else report.missing.push(name);
    }
  }
  for (const name of state.keys()) if (!known.has(name)) report.skipped.push(`${name}: unknown`);
  if (options.strict && (report.missing.length > 0 || report.skipped.length > 0)) {
    const problems = [
      ...report.missing.map((m) => `${m}: missing`),
      ...report.skipped,
    ];
    throw new Error(
      `Cannot load weights from ${source}: ${problems.slice(0, 5).join("; ")}` +
        (problems.length > 5 ? ` (and ${problems.length - 5} more)` : ""),
    );
  }
  return report;
}
