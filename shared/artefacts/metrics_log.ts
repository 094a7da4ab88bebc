/**
 * runs/NAME/metrics.jsonl: one JSON object a line. The train stage appends `step` lines every
 * log interval and an `epoch` line after every epoch; validate appends `val` lines (one per
 * evaluated epoch checkpoint); test appends one `test` line. The dashboard, the static report
 * and the TensorBoard writer read these lines. Not an artefact (it lives in the run folder and
 * grows while training runs), but the same contract: one schema, read and written here.
 */
import { z } from "zod";
import { describeIssue } from "./issue_text.ts";

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

/**
 * One line (numbered from 1) of `file`; a SyntaxError when it is not JSON, a TypeError naming
 * the field when it is not a metrics record.
 */
export function parseMetricsLine(text: string, line: number, file: string): MetricsRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`Cannot parse "${file}": line ${line}: ${(error as Error).message}`);
  }
  const parsed = MetricsRecordSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TypeError(
      `Cannot read "${file}": line ${line}: ${describeIssue(parsed.error.issues[0]!, raw)}`,
    );
  }
  return parsed.data;
}

/** Parses metrics.jsonl text; a malformed line is an error naming its number. */
export function parseMetricsLines(text: string, file: string): MetricsRecord[] {
  const records: MetricsRecord[] = [];
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    try {
      records.push(parseMetricsLine(line, index + 1, file));
    } catch (error) {
      // The last line may be half-written by a training run in progress.
      if (error instanceof SyntaxError && index === lines.length - 1) return;
      throw error;
    }
  });
  return records;
}

/** Appends one line (the caller owns the file; lines are small so the append is whole). */
export async function appendMetrics(path: string, record: MetricsRecord): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(record) + "\n", { append: true, create: true });
}
