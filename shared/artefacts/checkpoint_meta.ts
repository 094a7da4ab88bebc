/**
 * What a training checkpoint records besides its tensors, as JSON in its safetensors metadata:
 * "csn.model", the model's configuration; "csn.params", the train stage's resolved params
 * plus the condition names (in the model's condition order) and the dataset; "csn.history",
 * the finished epochs' summaries. Evaluation, queries and exports take the condition names
 * from here: a checkpoint without them cannot say which mask row is which notion.
 */
import { z } from "zod";
import { describeIssue } from "./issue_text.ts";
import { MaskKindName, ModelMode } from "./fields.ts";

/** Metadata "csn.model": the model's configuration (also in train.json). */
export const ModelConfigSchema = z.object({
  mode: ModelMode,
  masks: MaskKindName,
  nConditions: z.number().int().positive(),
  backbone: z.object({
    inChannels: z.number().int().positive(),
    inputSize: z.number().int().positive(),
    width: z.number().int().positive(),
    embedDim: z.number().int().positive(),
  }),
  seed: z.number().int(),
});

/** The "csn.model" metadata of checkpoint `source`, checked; a SyntaxError naming the field. */
export function modelConfigOf(value: unknown, source: string): z.output<typeof ModelConfigSchema> {
  const parsed = ModelConfigSchema.safeParse(value);
  if (!parsed.success) {
    throw new SyntaxError(
      `Cannot read checkpoint "${source}": ${
        describeIssue(parsed.error.issues[0]!, value, "csn.model")
      }`,
    );
  }
  return parsed.data;
}

export const CheckpointParamsSchema = z.looseObject({
  condition_names: z.array(z.string().min(1)),
  dataset: z.string().optional(),
});
export type CheckpointParams = z.output<typeof CheckpointParamsSchema>;

/**
 * Metadata "csn.history": a summary per finished epoch, without timings (so a resumed run's
 * checkpoints stay bit-identical to an uninterrupted run's).
 */
export const CarriedHistorySchema = z.array(z.object({
  epoch: z.number().int().min(1),
  lr: z.number(),
  loss: z.number(),
  accuracy: z.number(),
  per_condition: z.record(z.string(), z.number()),
  /** Absent in checkpoints written before budgets existed: then epoch x triplets per epoch. */
  triplets_seen: z.number().int().min(0).optional(),
}));
export type CarriedEpoch = z.output<typeof CarriedHistorySchema>[number];

/** What a checkpoint records of a training run: `params` plus names and dataset. */
export function checkpointParams<P extends object>(
  params: P,
  conditionNames: readonly string[],
  dataset: string,
): P & CheckpointParams {
  return { ...params, condition_names: [...conditionNames], dataset };
}

/**
 * The condition names a decoded checkpoint records, one per condition of its model; a
 * TypeError naming `source` otherwise.
 */
export function conditionNamesOf(
  checkpoint: {
    readonly config: { readonly nConditions: number };
    readonly meta: { params: unknown };
  },
  source: string,
): string[] {
  const parsed = CheckpointParamsSchema.safeParse(checkpoint.meta.params);
  if (!parsed.success) {
    throw new TypeError(
      `Cannot read checkpoint "${source}": it does not record its condition names: ${
        describeIssue(parsed.error.issues[0]!, checkpoint.meta.params, "csn.params")
      }`,
    );
  }
  const names = parsed.data.condition_names;
  const n = checkpoint.config.nConditions;
  if (names.length !== n) {
    throw new TypeError(
      `Cannot read checkpoint "${source}": it does not record its condition names: csn.params.condition_names ` +
        `has ${names.length}, expected one per condition of its model (${n})`,
    );
  }
  return names;
}
