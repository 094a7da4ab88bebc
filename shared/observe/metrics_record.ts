/**
 * One line of runs/NAME/metrics.jsonl. The train stage appends `step` lines every log
 * interval and an `epoch` line after every epoch; validate appends `val` lines (one per
 * evaluated epoch checkpoint); test appends one `test` line. The dashboard, the static report
 * and the TensorBoard writer read these lines.
 */
import { z } from "zod";

export const MetricsRecordSchema = z.object({
  /** ISO time the line was written. */
  time: z.string(),
  kind: z.enum(["step", "epoch", "val", "test"]),
  /** The training run this line belongs to (a stage instance may train several). */
  series: z.string().default("train"),
  epoch: z.number().int().min(0),
  /** Optimiser steps so far (global, across epochs). */
  step: z.number().int().min(0),
  /** Training triplets seen so far. */
  triplets_seen: z.number().int().min(0).optional(),
  lr: z.number().optional(),
  loss: z.number().optional(),
  accuracy: z.number().min(0).max(1).optional(),
  per_condition: z.record(z.string(), z.number()).optional(),
  embed_norm: z.number().optional(),
  mask_norm: z.number().optional(),
  /** Mask rows after ReLU (conditions x dims); on epoch lines. */
  masks: z.array(z.array(z.number())).optional(),
  condition_names: z.array(z.string()).optional(),
  triplets_per_s: z.number().optional(),
  /** Retrieval and other test metrics, free-form. */
  extra: z.record(z.string(), z.unknown()).optional(),
});

export type MetricsRecord = z.output<typeof MetricsRecordSchema>;

/** Parses metrics.jsonl text; a malformed line is an error naming its number. */
export function parseMetricsLines(text: string, file: string): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      // The last line may be half-written by a training run in progress.
      if (index === lines.length - 1) return;
      throw new SyntaxError(
        `Cannot parse "${file}": line ${index + 1}: ${(error as Error).message}`,
      );
    }
    const parsed = MetricsRecordSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new TypeError(
        `Cannot read "${file}": line ${index + 1}: ${issue.path.join(".")}: ${issue.message}`,
      );
    }
    records.push(parsed.data);
  });
  return records;
}

/** Appends one line (the caller owns the file; lines are small so the append is whole). */
export async function appendMetrics(path: string, record: MetricsRecord): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(record) + "\n", { append: true, create: true });
}
