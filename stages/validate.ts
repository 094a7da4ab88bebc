/**
 * validate: evaluates every epoch checkpoint of a training run on the validation triplets
 * (accuracy overall and per condition, loss), and keeps the best by accuracy as the reference
 * does ("model_best"; ties go to the earlier epoch).
 */
import { join } from "node:path";
import { z } from "zod";
import { defineStage } from "../shared/stage/contract.ts";
import { checkpointName, listCheckpoints } from "../shared/weights/checkpoints_dir.ts";
import { MetricsLog } from "../shared/observe/metrics_writer.ts";
import { toRows } from "../shared/util/rows.ts";
import { checkpointStep } from "../shared/eval/checkpoint_step.ts";
import { trainRecord, tripletsSeenBy } from "../shared/artefacts/train_record.ts";
import {
  VALIDATION_FORMAT,
  type ValidationRecord,
  validationRecord,
} from "../shared/artefacts/validation_record.ts";
import { openEvaluator } from "../shared/eval/eval_inputs.ts";
import {
  EvalParamsShape,
  evalRuntimeFacts,
  VOLATILE_EVAL_PARAMS,
} from "../shared/eval/eval_params.ts";

export default defineStage({
  name: "validate",
  description: "scores every epoch checkpoint on the validation triplets; keeps the best",
  params: z.object({ ...EvalParamsShape, split: z.enum(["val", "test", "train"]).default("val") }),
  inputs: ["checkpoints", "shards"],
  outputs: ["best"],
  volatileParams: VOLATILE_EVAL_PARAMS,
  runtimeFacts: evalRuntimeFacts,
  async run(ctx) {
    const dir = ctx.inputs.checkpoints.dir;
    const epochs = await listCheckpoints(dir);
    if (epochs.length === 0) throw new TypeError(`Cannot validate: no epoch checkpoints in ${dir}`);
    const train = await trainRecord.read(dir);
    const series = train.series;
    const evaluator = await openEvaluator(ctx);
    // A rerun (after a kill, or forced) writes every val line again: the old ones go.
    const metrics = await MetricsLog.open(ctx.runDir, series, { rewrites: ["val"] });
    const curve: ValidationRecord["curve"] = [];
    for (const epoch of epochs) {
      const file = join(dir, checkpointName(epoch));
      const score = await evaluator.evaluate(file, { split: ctx.params.split, retrieval: false });
      const { accuracy, loss, triplets, per_condition, counts } = score;
      const seen = tripletsSeenBy(train, epoch);
      // Learned masks per epoch: the data of the mask-sparsity curve.
      const masks = score.maskKind === "fixed"
        ? undefined
        : toRows(score.masks, score.conditionNames.length);
      curve.push({
        epoch,
        triplets_seen: seen,
        accuracy,
        loss,
        triplets,
        per_condition,
        counts,
        mask_values: masks,
      });
      ctx.log(
        `epoch ${epoch}: ${ctx.params.split} accuracy ${(100 * score.accuracy).toFixed(2)}%`,
      );
      await metrics.append({
        kind: "val",
        epoch,
        // The global step the checkpoint was written at, as train's lines use.
        step: checkpointStep(await Deno.readFile(file), file),
        loss: score.loss,
        accuracy: score.accuracy,
        per_condition: score.per_condition,
      });
    }
    const best = curve.reduce((a, b) => (b.accuracy > a.accuracy ? b : a));
    const out = ctx.outputs.best;
    await Deno.copyFile(join(dir, checkpointName(best.epoch)), join(out, "model_best.safetensors"));
    await validationRecord.write(out, {
      format: VALIDATION_FORMAT,
      series,
      split: ctx.params.split,
      checkpoints: ctx.inputs.checkpoints.id,
      best_epoch: best.epoch,
      best_accuracy: best.accuracy,
      triplets_per_epoch: train.triplets_per_epoch,
      budget: train.budget ?? "",
      triplets_seen: train.triplets_seen,
      curve,
    });
    return {
      metrics: {
        best_epoch: best.epoch,
        accuracy: best.accuracy,
        per_condition: best.per_condition,
        triplets: best.triplets,
      },
      publish: { best: [validationRecord.file] },
    };
  },
});
