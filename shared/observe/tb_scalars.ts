/**
 * Which TensorBoard scalars a metrics line becomes. Step lines give `train/...`, epoch summary
 * lines `epoch/...`, validation lines `val/...` and the test line `test/...`; per-notion
 * accuracies become `<prefix>/accuracy/<notion>` and numeric leaves of `extra` (retrieval
 * metrics) `<prefix>/<path>`.
 */
import type { MetricsRecord } from "../artefacts/metrics_log.ts";

export interface Scalar {
  tag: string;
  value: number;
}

const PREFIX: Record<MetricsRecord["kind"], string> = {
  step: "train",
  epoch: "epoch",
  val: "val",
  test: "test",
};

const FIELDS = ["loss", "accuracy", "lr", "embed_norm", "mask_norm", "triplets_per_s"] as const;

export function recordScalars(record: MetricsRecord): Scalar[] {
  const prefix = PREFIX[record.kind];
  const scalars: Scalar[] = [];
  for (const field of FIELDS) {
    const value = record[field];
    if (typeof value === "number") scalars.push({ tag: `${prefix}/${field}`, value });
  }
  for (const [notion, value] of Object.entries(record.per_condition ?? {})) {
    scalars.push({ tag: `${prefix}/accuracy/${notion}`, value });
  }
  if (record.extra) collectLeaves(record.extra, prefix, scalars, 0);
  return scalars;
}

/** Numeric leaves of nested objects; arrays and strings are not scalars and are skipped. */
function collectLeaves(value: unknown, path: string, out: Scalar[], depth: number): void {
  if (typeof value === "number") {
    out.push({ tag: path, value });
  } else if (value !== null && typeof value === "object" && !Array.isArray(value) && depth < 4) {
    for (const [key, child] of Object.entries(value)) {
      collectLeaves(child, `${path}/${key}`, out, depth + 1);
    }
  }
}
