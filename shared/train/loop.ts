/**
 * The training loop: epochs of seeded triplet batches from the shards, data-parallel steps,
 * metrics every log interval and every epoch, a checkpoint after every epoch in the stage's
 * work folder (so a killed run resumes exactly from the last finished epoch).
 */
import { join } from "node:path";
import type { ModelConfig } from "../model/csn.ts";
import { learningRate } from "../model/optim.ts";
import { PRESETS } from "../model/choices.ts";
import { loadPretrained } from "./pretrained.ts";
import type { ShardSet } from "../data/shards/reader.ts";
import { tripletBatchCount, tripletBatches } from "../data/shards/batches.ts";
import { fixedSubset, selectTriplets } from "../data/shards/order.ts";
import { Engine } from "../engine/engine.ts";
import type { BackendInfo } from "../engine/replica.ts";
import { mergeStats, namedSummary, type StepStats } from "../engine/stats.ts";
import { conditionIds, flipOf, maskKindOf, microBatchOf, type TrainParams } from "./params.ts";
import { normalisationOf } from "../data/shards/normalise.ts";
import { checkpointName, listCheckpoints, writeCheckpoint } from "../weights/checkpoints_dir.ts";
import { MetricsLog } from "../observe/metrics_writer.ts";
import { ProgressReporter } from "./progress.ts";
import { budgetSpent, parseBudget } from "./budget.ts";
import { toRows } from "../util/rows.ts";
import { carried, type EpochSummary, resumedHistory } from "./history.ts";
import { checkpointParams } from "../artefacts/checkpoint_meta.ts";

export interface TrainContext {
  readonly shards: ShardSet;
  readonly dataset: string;
  readonly params: TrainParams;
  /** Resumable scratch space: epoch checkpoints land here first. */
  readonly workDir: string;
  readonly runDir: string;
  readonly series: string;
  /** Where downloads (pretrained weights) are cached. */
  readonly downloadDir: string;
  readonly log: (message: string) => void;
  readonly progress?: ProgressReporter;
}

export interface TrainResult {
  readonly config: ModelConfig;
  readonly conditionNames: string[];
  readonly backend: BackendInfo;
  readonly epochs: number[];
  readonly history: EpochSummary[];
  readonly steps: number;
  readonly tripletsPerSecond: number;
  readonly resumedFrom: number;
  /** Training triplets in one epoch (the fixed subset, or every training triplet). */
  readonly tripletsPerEpoch: number;
  /** Training triplets seen in all (resumed epochs counted as whole). */
  readonly tripletsSeen: number;
  /** Seconds of training steps in this process (resumed epochs not counted). */
  readonly trainSeconds: number;
}

export function modelConfigOf(
  params: TrainParams,
  shards: ShardSet,
  nConditions: number,
): ModelConfig {
  if (shards.height !== shards.width) {
    throw new RangeError(
      `Cannot train: images are ${shards.height}x${shards.width}, expected square`,
    );
  }
  return {
    mode: params.mode,
    masks: maskKindOf(params),
    nConditions,
    backbone: {
      inChannels: shards.channels,
      inputSize: shards.height,
      width: params.width ?? PRESETS[params.preset].width,
      embedDim: params.embed_dims,
    },
    seed: params.seed,
  };
}

export async function trainModel(ctx: TrainContext): Promise<TrainResult> {
  const { params, shards, log } = ctx;
  const budget = parseBudget(params.budget, "train.budget");
  const { ids, names } = conditionIds(shards.notions, params.conditions);
  const remap = new Map(ids.map((id, i) => [id, i]));
  const config = modelConfigOf(params, shards, ids.length);
  const done = params.resume ? await listCheckpoints(ctx.workDir) : [];
  const resumedFrom = done.at(-1) ?? 0;
  const resume = resumedFrom
    ? await Deno.readFile(join(ctx.workDir, checkpointName(resumedFrom)))
    : undefined;
  if (resumedFrom) log(`resuming after epoch ${resumedFrom} (${ctx.workDir})`);
  const pretrained = !resume && params.pretrained
    ? await loadPretrained(params.pretrained, ctx.downloadDir, log)
    : undefined;
  const engine = await Engine.open({
    workers: params.workers,
    model: { config, backend: params.backend, checkpoint: resume, pretrained },
    training: {
      microBatch: microBatchOf(params),
      batched: params.batched,
      precision: params.precision,
      loss: { margin: params.margin, embed: params.embed_loss, mask: params.mask_loss },
    },
    log,
  });
  const metrics = await MetricsLog.open(ctx.runDir, ctx.series, {
    fresh: resumedFrom === 0,
    resumedFrom,
  });
  const flip = flipOf(params.flip, shards);
  const { mean, std } = normalisationOf(shards.channels);
  const limit = params.num_train_triplets || undefined;
  const batchOptions = {
    split: "train" as const,
    batchSize: params.batch_size,
    seed: params.seed,
    conditions: ids,
    limit,
  };
  const stepsPerEpoch = tripletBatchCount(shards, batchOptions);
  const perEpoch = fixedSubset(selectTriplets(shards.triplets.train, ids), params.seed, limit)
    .length;
  if (stepsPerEpoch === 0) {
    throw new RangeError("Cannot train: the shards hold no training triplets");
  }
  const imageSize = shards.height * shards.width * shards.channels;
  // The epochs before a resume count too: their summaries come from the checkpoint.
  const history: EpochSummary[] = resume
    ? resumedHistory(resume, "resume checkpoint", metrics.lines, perEpoch)
    : [];
  let step = resumedFrom * stepsPerEpoch;
  if (resumedFrom) await metrics.events.restart(step);
  else await metrics.events.params({ ...params, dataset: ctx.dataset }, names);
  const timed = history.filter((h) => h.seconds > 0);
  let trainedSeconds = timed.reduce((sum, h) => sum + h.seconds, 0);
  // The one triplet counter: training triplets seen so far, resumed epochs included.
  const seenBefore = history.at(-1)?.triplets_seen ?? resumedFrom * perEpoch;
  let tripletsSeen = seenBefore;
  try {
    for (let epoch = resumedFrom + 1; epoch <= params.epochs; epoch++) {
      if (budgetSpent(budget, tripletsSeen, trainedSeconds)) break;
      const lr = learningRate(params.lr, epoch, params.lr_decay);
      const started = performance.now();
      const epochStart = tripletsSeen;
      const epochStats: StepStats[] = [];
      let window: StepStats[] = [];
      for await (
        const batch of tripletBatches(shards, { ...batchOptions, epoch, flip, mean, std })
      ) {
        const running = (performance.now() - started) / 1000;
        if (budgetSpent(budget, tripletsSeen, trainedSeconds + running)) break;
        const conditions = batch.condition.map((c) => remap.get(c)!);
        const stats = await engine.step(
          { anchor: batch.anchor, far: batch.far, close: batch.close, conditions },
          imageSize,
          lr,
        );
        step++;
        if (!Number.isFinite(stats.loss)) {
          throw new Error(
            `Cannot train: the loss became ${stats.loss} at epoch ${epoch}, step ${step}; stopped. ` +
              (epoch > 1
                ? `The last good checkpoint (epoch ${epoch - 1}) is kept in ${ctx.workDir}.`
                : "No epoch had finished, so there is no checkpoint.") +
              " Lower --lr or check the data.",
          );
        }
        epochStats.push(stats);
        window.push(stats);
        tripletsSeen += stats.triplets;
        const elapsed = (performance.now() - started) / 1000;
        const seen = tripletsSeen - epochStart;
        ctx.progress?.update({
          epoch,
          epochs: params.epochs,
          step: batch.batchIndex + 1,
          steps: stepsPerEpoch,
          loss: stats.loss,
          accuracy: stats.accuracy.accuracy,
          tripletsPerSecond: seen / elapsed,
          elapsed,
        });
        if (step % params.log_interval === 0) {
          await metrics.append({
            kind: "step",
            ...summarise(window, names),
            epoch,
            step,
            triplets_seen: tripletsSeen,
            lr,
            triplets_per_s: seen / elapsed,
          });
          window = [];
        }
      }
      ctx.progress?.done();
      const seconds = (performance.now() - started) / 1000;
      const seen = tripletsSeen - epochStart;
      trainedSeconds += seconds;
      const summary = summarise(epochStats, names);
      const entry: EpochSummary = {
        epoch,
        lr,
        loss: summary.loss,
        accuracy: summary.accuracy,
        per_condition: summary.per_condition,
        seconds,
        triplets_seen: tripletsSeen,
      };
      const bytes = await engine.checkpoint({
        epoch,
        step,
        rng: JSON.stringify({ seed: params.seed, epoch }),
        params: checkpointParams(params, names, ctx.dataset),
        history: [...history, entry].map(carried),
      });
      const masks = await engine.masks();
      // The epoch line goes first: a kill before the checkpoint file lands resumes from the
      // previous epoch, which drops this line again, so the log never lacks a finished epoch.
      await metrics.append({
        kind: "epoch",
        ...summary,
        epoch,
        step,
        triplets_seen: tripletsSeen,
        lr,
        triplets_per_s: seen / seconds,
        masks: masks ? toRows(masks, names.length) : undefined,
        condition_names: names,
      });
      await writeCheckpoint(ctx.workDir, epoch, bytes);
      await metrics.events.weights(step, bytes);
      history.push(entry);
      log(
        `epoch ${epoch}/${params.epochs}: loss ${summary.loss.toFixed(4)}, accuracy ` +
          `${(100 * summary.accuracy).toFixed(1)}%, ${(seen / seconds).toFixed(0)} triplets/s`,
      );
    }
  } finally {
    engine.close();
  }
  return {
    config,
    conditionNames: names,
    backend: engine.backend,
    epochs: await listCheckpoints(ctx.workDir),
    history,
    steps: step,
    // Timed epochs only: resumed ones whose seconds are unknown (0) count for neither.
    tripletsPerSecond: trainedSeconds > 0
      ? (timed.length * perEpoch + tripletsSeen - seenBefore) / trainedSeconds
      : 0,
    resumedFrom,
    tripletsPerEpoch: perEpoch,
    tripletsSeen,
    trainSeconds: trainedSeconds,
  };
}

/** Means over steps (weighted by triplets) of loss, norms and accuracy per condition name. */
function summarise(stats: readonly StepStats[], names: readonly string[]) {
  return namedSummary(mergeStats(stats), names);
}
