/**
 * validation.json (format "csn-validation/1"), beside model_best.safetensors in a validate
 * stage's output: the score of every epoch checkpoint (the accuracy curve, and for learned
 * masks their values per epoch), the best epoch, and the training budget it came from.
 * Records written before budgets existed lack budget and triplets_seen. No timings (test and
 * paper key on this artefact's id); older records' train_seconds is ignored when read.
 */
import { z } from "zod";
import {
  ArtefactId,
  Count,
  Counts,
  Fraction,
  MaskRows,
  PerCondition,
  SplitName,
} from "./fields.ts";
import { jsonArtefact } from "./json_artefact.ts";

export const VALIDATION_FORMAT = "csn-validation/1";

export const CurvePointSchema = z.object({
  epoch: z.number().int().positive(),
  /** Training triplets seen by the end of this epoch (absent before budgets existed). */
  triplets_seen: Count.optional(),
  accuracy: Fraction,
  loss: z.number(),
  triplets: Count,
  per_condition: PerCondition,
  counts: Counts,
  /** Learned masks at this epoch (conditions x dims); absent for fixed masks. */
  mask_values: MaskRows.optional(),
});

export const ValidationRecordSchema = z.object({
  format: z.literal(VALIDATION_FORMAT),
  /** The training run's series (its train stage's name). */
  series: z.string().min(1),
  split: SplitName,
  /** The checkpoints artefact that was scored. */
  checkpoints: ArtefactId,
  best_epoch: z.number().int().positive(),
  best_accuracy: Fraction,
  triplets_per_epoch: Count,
  /** The budget the run trained under ("": none). */
  budget: z.string().optional(),
  triplets_seen: Count.optional(),
  curve: z.array(CurvePointSchema).min(1),
});
export type ValidationRecord = z.output<typeof ValidationRecordSchema>;

export const validationRecord = jsonArtefact("validation.json", ValidationRecordSchema);
