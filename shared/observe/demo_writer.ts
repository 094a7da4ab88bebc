/**
 * Plausible synthetic training metrics (loss falling, accuracies rising, masks sharpening),
 * appended line by line with a delay the way the train stage does. It drives the dashboard's
 * browser test and lets anyone try the dashboard without training:
 *   deno run -A shared/cli/demo_writer_main.ts --out runs/demo/metrics.jsonl --interval-ms 200
 */
import { Rng } from "../util/rng.ts";
import type { MetricsRecord } from "../artefacts/metrics_log.ts";

export interface SyntheticOptions {
  epochs?: number;
  stepsPerEpoch?: number;
  conditions?: string[];
  dims?: number;
  seed?: number;
  start?: Date;
  /** Include the final test line. */
  test?: boolean;
}

export function syntheticRecords(options: SyntheticOptions = {}): MetricsRecord[] {
  const epochs = options.epochs ?? 4;
  const stepsPerEpoch = options.stepsPerEpoch ?? 10;
  const conditions = options.conditions ?? ["character", "family", "weight", "slant"];
  const dims = options.dims ?? 64;
  const rng = new Rng(options.seed ?? 1);
  const start = (options.start ?? new Date("2025-01-01T00:00:00Z")).getTime();
  const total = epochs * stepsPerEpoch;
  const records: MetricsRecord[] = [];
  const base = { series: "train" };
  // Each notion approaches its own ceiling; noise keeps the curves honest-looking.
  const ceiling = conditions.map((_, i) => 0.95 - 0.05 * i);
  const acc = (progress: number, i: number) =>
    Math.min(
      1,
      Math.max(
        0,
        0.5 + ((ceiling[i] ?? 0.8) - 0.5) * (1 - Math.exp(-3 * progress)) + 0.02 * rng.normal(),
      ),
    );
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    for (let s = 1; s <= stepsPerEpoch; s++) {
      const step = (epoch - 1) * stepsPerEpoch + s;
      const progress = step / total;
      const per = conditions.map((_, i) => acc(progress, i));
      records.push({
        ...base,
        time: new Date(start + step * 1000).toISOString(),
        kind: "step",
        epoch,
        step,
        triplets_seen: step * 64,
        lr: 1e-3 * 0.985 ** epoch,
        loss: 0.2 * Math.exp(-2 * progress) + 0.01 * Math.abs(rng.normal()),
        accuracy: mean(per),
        per_condition: Object.fromEntries(conditions.map((c, i) => [c, per[i]!])),
        embed_norm: 3 + progress + 0.05 * rng.normal(),
        mask_norm: 16 - 4 * progress,
        triplets_per_s: 200 + 10 * rng.normal(),
      });
    }
    const step = epoch * stepsPerEpoch;
    const sharp = epoch / epochs;
    const masks = conditions.map((_, c) =>
      Array.from({ length: dims }, (_, d) => {
        const own = Math.floor(d / Math.floor(dims / conditions.length)) === c;
        return Math.max(0, (own ? 0.6 + 0.6 * sharp : 0.5 - 0.4 * sharp) + 0.1 * rng.normal());
      })
    );
    const per = conditions.map((_, i) => acc(epoch / epochs, i));
    const time = new Date(start + step * 1000 + 500).toISOString();
    records.push({
      ...base,
      time,
      kind: "epoch",
      epoch,
      step,
      triplets_seen: step * 64,
      lr: 1e-3 * 0.985 ** epoch,
      loss: 0.2 * Math.exp(-2 * sharp),
      accuracy: mean(per),
      per_condition: Object.fromEntries(conditions.map((c, i) => [c, per[i]!])),
      mask_norm: 16 - 4 * sharp,
      masks,
      condition_names: conditions,
    });
    const val = conditions.map((_, i) => acc(epoch / epochs, i) - 0.03);
    records.push({
      ...base,
      time,
      kind: "val",
      epoch,
      step,
      accuracy: mean(val),
      per_condition: Object.fromEntries(conditions.map((c, i) => [c, val[i]!])),
    });
  }
  if (options.test ?? true) {
    const test = conditions.map((_, i) => (ceiling[i] ?? 0.8) - 0.04);
    records.push({
      ...base,
      time: new Date(start + total * 1000 + 2000).toISOString(),
      kind: "test",
      epoch: epochs,
      step: total,
      accuracy: mean(test),
      per_condition: Object.fromEntries(conditions.map((c, i) => [c, test[i]!])),
      extra: {
        triplets: 8000,
        retrieval: Object.fromEntries(
          conditions.map((
            c,
            i,
          ) => [c, {
            precision_at_1: test[i]! - 0.1,
            r_precision: test[i]! - 0.3,
            map_at_r: test[i]! - 0.4,
          }]),
        ),
      },
    });
  }
  return records;
}
