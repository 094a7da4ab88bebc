/**
 * test: evaluates one checkpoint (validate's best, or any given with --checkpoint) on the
 * test triplets: accuracy overall and per condition, triplet counts, and retrieval metrics
 * per labelled notion in its masked subspace (precision@1, R-precision, MAP@R, recall@k).
 * Retrieval queries and gallery are the images the test triplets use.
 */
import { z } from "zod";
import { defineStage } from "../shared/stage/contract.ts";
import { MetricsLog } from "../shared/observe/metrics_writer.ts";
import { toRows } from "../shared/util/rows.ts";
import { TEST_FORMAT, testRecord } from "../shared/artefacts/test_record.ts";
import { checkpointStep } from "../shared/eval/checkpoint_step.ts";
import { validationRecord } from "../shared/artefacts/validation_record.ts";
import { modelCheckpoint, openEvaluator } from "../shared/eval/eval_inputs.ts";
import {
  EvalParamsShape,
  evalRuntimeFacts,
  VOLATILE_EVAL_PARAMS,
} from "../shared/eval/eval_params.ts";

export default defineStage({
  name: "test",
  description: "evaluates a checkpoint on the test triplets, with retrieval metrics per notion",
  params: z.object({
    ...EvalParamsShape,
    split: z.enum(["test", "val", "train"]).default("test"),
    /** Measure retrieval (k-NN over every test image, per notion); off for speed. */
    retrieval: z.boolean().default(true),
  }),
  inputs: ["model", "shards"],
  outputs: ["results"],
  volatileParams: VOLATILE_EVAL_PARAMS,
  runtimeFacts: evalRuntimeFacts,
  async run(ctx) {
    const file = await modelCheckpoint(ctx);
    const evaluator = await openEvaluator(ctx);
    const { split, retrieval } = ctx.params;
    const evaluation = await evaluator.evaluate(file, { split, retrieval });
    ctx.log(
      `${ctx.params.split}: accuracy ${(100 * evaluation.accuracy).toFixed(2)}% on ` +
        `${evaluation.triplets} triplets; ${evaluation.images} images embedded in ` +
        `${evaluation.embedSeconds.toFixed(1)} s`,
    );
    const result = {
      accuracy: evaluation.accuracy,
      per_condition: evaluation.per_condition,
      triplets: evaluation.triplets,
      counts: evaluation.counts,
      loss: evaluation.loss,
      images: evaluation.images,
      retrieval: evaluation.retrieval,
      condition_names: evaluation.conditionNames,
      mask_values: toRows(evaluation.masks, evaluation.conditionNames.length),
    };
    const out = ctx.outputs.results;
    await testRecord.write(out, {
      format: TEST_FORMAT,
      split: ctx.params.split,
      model: ctx.inputs.model.id,
      mode: evaluation.mode,
      masks: evaluation.maskKind,
      ...result,
    });
    // The training run's series, from validate's record (a model straight from train or an
    // imported one has none: "train").
    const series = (await validationRecord.readIfExists(ctx.inputs.model.dir))?.series ??
      "train";
    // A rerun (after a kill, or forced) writes every test line again: the old ones go.
    const metrics = await MetricsLog.open(ctx.runDir, series, { rewrites: ["test"] });
    // At the global step of the checkpoint scored (TensorBoard draws it after training, not at
    // step 0 before it); an imported checkpoint without one sits at 0.
    const step = checkpointStepOrZero(await Deno.readFile(file), file);
    await metrics.append({
      kind: "test",
      epoch: 0,
      step,
      accuracy: result.accuracy,
      per_condition: result.per_condition,
      extra: { retrieval: result.retrieval, triplets: result.triplets },
    });
    // Contact sheets need the canvas library: loaded here, not for cached reruns.
    const { writeTestSummaries } = await import("../shared/observe/test_summaries.ts");
    await writeTestSummaries(metrics.events, evaluator.shards, evaluation, step);
    // The mask values stay in test.json; the run summary keeps to scalars.
    return {
      metrics: { ...result, mask_values: undefined },
      publish: { results: [testRecord.file] },
    };
  },
});

function checkpointStepOrZero(bytes: Uint8Array, file: string): number {
  try {
    return checkpointStep(bytes, file);
  } catch (error) {
    if (error instanceof SyntaxError) return 0;
    throw error;
  }
}
