/**
 * train.json (format "csn-train/1"), beside the epoch checkpoints of a train stage's output:
 * the model, the condition names, the backend, the budget and what training spent of it, and
 * the per-epoch history. Records written before budgets existed lack budget, triplets_seen and
 * triplets_by_epoch. No timings: validate keys on this artefact's id, so identical trainings
 * must write identical bytes; the seconds and throughput go to the train stage's metrics (the
 * run record) and metrics.jsonl. Older records' timing fields are ignored when read.
 */
import { z } from "zod";
import { Count, Fraction, PerCondition } from "./fields.ts";
import { ModelConfigSchema } from "./checkpoint_meta.ts";
import { jsonArtefact } from "./json_artefact.ts";

export const TRAIN_FORMAT = "csn-train/1";

export const EpochSummarySchema = z.object({
  epoch: z.number().int().positive(),
  lr: z.number(),
  loss: z.number(),
  accuracy: Fraction,
  per_condition: PerCondition,
  /** Training triplets seen up to the end of this epoch (absent before budgets existed). */
  triplets_seen: Count.optional(),
});

export const TrainRecordSchema = z.object({
  format: z.literal(TRAIN_FORMAT),
  /** The train stage instance's name: its series in metrics.jsonl. */
  series: z.string().min(1),
  model: ModelConfigSchema,
  condition_names: z.array(z.string()),
  dataset: z.string(),
  backend: z.object({ name: z.string(), reason: z.string() }),
  /** Runtime facts of the backend (part of the stage's cache key). */
  runtime: z.record(z.string(), z.unknown()),
  epochs: z.array(z.number().int().positive()),
  steps: Count,
  resumed_from_epoch: Count,
  triplets_per_epoch: Count,
  budget: z.string().optional(),
  triplets_seen: Count.optional(),
  /** Triplets seen by the end of each kept epoch (only the last can be cut short). */
  triplets_by_epoch: z.record(z.string(), Count).optional(),
  history: z.array(EpochSummarySchema),
  /** The train stage's resolved params. */
  params: z.record(z.string(), z.unknown()),
});
export type TrainRecord = z.output<typeof TrainRecordSchema>;

export const trainRecord = jsonArtefact("train.json", TrainRecordSchema);

/** Training triplets seen by the end of `epoch` (older records: whole epochs). */
export function tripletsSeenBy(record: TrainRecord, epoch: number): number {
  return record.triplets_by_epoch?.[epoch] ?? epoch * record.triplets_per_epoch;
}
