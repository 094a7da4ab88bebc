/**
 * train: shards -> checkpoints (one safetensors file per epoch, plus train.json and the run's
 * metrics lines). Modes: csn with fixed masks (default), learned masks (--learned), learned
 * with disjoint init (--prein), standard (one embedding, no masks), task-specific.
 */
import { join } from "node:path";
import { defineStage } from "../shared/stage/contract.ts";
import { openShards } from "../shared/data/shards/reader.ts";
import { backendFacts, resolveBackend } from "../shared/engine/probe.ts";
import { TrainParamsSchema, VOLATILE_TRAIN_PARAMS } from "../shared/train/params.ts";
import { checkpointName } from "../shared/weights/checkpoints_dir.ts";
import { checkTrainPlan } from "../shared/train/plan_check.ts";
import { ProgressReporter } from "../shared/train/progress.ts";
import { TRAIN_FORMAT, trainRecord } from "../shared/artefacts/train_record.ts";

export default defineStage({
  name: "train",
  description: "trains a CSN (or a baseline) on the shards' training triplets",
  params: TrainParamsSchema,
  inputs: ["shards"],
  outputs: ["checkpoints"],
  volatileParams: VOLATILE_TRAIN_PARAMS,
  planCheck: checkTrainPlan,
  // The precision beside the backend's facts: fp32 and bf16 results never share a key.
  runtimeFacts: async (params) => ({
    ...backendFacts(await resolveBackend(params.backend)),
    precision: params.precision,
  }),
  async run(ctx) {
    const params = ctx.params;
    if (params.mode !== "csn" && (params.learned || params.prein)) {
      throw new TypeError(
        `Cannot train: --learned and --prein apply to mode csn, not ${params.mode}`,
      );
    }
    const shards = await openShards(ctx.inputs.shards.dir);
    // Loaded here, not at the top: TensorFlow.js is only needed when training really runs.
    const { trainModel } = await import("../shared/train/loop.ts");
    const result = await trainModel({
      shards,
      dataset: shards.index.dataset,
      params,
      workDir: ctx.workDir,
      runDir: ctx.runDir,
      series: ctx.name,
      downloadDir: params.download_dir,
      log: ctx.log,
      progress: new ProgressReporter(),
    });
    const out = ctx.outputs.checkpoints;
    for (const epoch of result.epochs) {
      await Deno.copyFile(
        join(ctx.workDir, checkpointName(epoch)),
        join(out, checkpointName(epoch)),
      );
    }
    await trainRecord.write(out, {
      format: TRAIN_FORMAT,
      series: ctx.name,
      model: result.config,
      condition_names: result.conditionNames,
      dataset: shards.index.dataset,
      backend: result.backend,
      runtime: backendFacts(result.backend.name),
      epochs: result.epochs,
      steps: result.steps,
      resumed_from_epoch: result.resumedFrom,
      triplets_per_epoch: result.tripletsPerEpoch,
      budget: params.budget,
      triplets_seen: result.tripletsSeen,
      /** Triplets seen by the end of each kept epoch (only the last can be cut short). */
      triplets_by_epoch: Object.fromEntries(result.epochs.map((epoch) => [
        epoch,
        epoch === result.epochs.at(-1) ? result.tripletsSeen : epoch * result.tripletsPerEpoch,
      ])),
      // Timing-free: the seconds are in the metrics below (the run record).
      history: result.history.map(({ seconds: _seconds, ...timeless }) => timeless),
      params,
    });
    const last = result.history.at(-1);
    return {
      metrics: {
        epochs: result.epochs.length,
        backend: result.backend.name,
        train_loss: last?.loss,
        train_accuracy: last?.accuracy,
        triplets_per_s: Math.round(result.tripletsPerSecond),
        train_seconds: Math.round(result.trainSeconds * 100) / 100,
        epoch_seconds: result.history.map((h) => Math.round(h.seconds * 100) / 100),
        triplets_seen: result.tripletsSeen,
      },
      publish: { checkpoints: [trainRecord.file] },
    };
  },
});
