/**
 * Whole steps for tests and benchmarks: one optimisation step, and an evaluation of a triplet
 * batch in eval mode. Training itself goes through the engine's replicas.
 */
import * as tf from "@tensorflow/tfjs";
import type { CsnModel, TripletImages } from "../../shared/model/csn.ts";
import { REFERENCE_LOSS, tripletLoss } from "../../shared/model/loss.ts";
import type { Adam } from "../../shared/model/optim.ts";
import {
  computeGradients,
  microBatches,
  microStats,
  sliceBatch,
  type StepOptions,
} from "../../shared/engine/step.ts";
import { mergeStats, type StepStats } from "../../shared/engine/stats.ts";

/** computeGradients, then the optimiser's update. */
export async function trainStep(
  model: CsnModel,
  optimiser: Adam,
  batch: TripletImages,
  options: StepOptions & { readonly lr: number },
): Promise<StepStats> {
  const { values, stats } = await computeGradients(model, batch, options);
  optimiser.apply(values, options.lr);
  return stats;
}

/** Distances and accuracy in eval mode (running BatchNorm statistics), in micro-batches. */
export async function evaluateTriplets(
  model: CsnModel,
  batch: TripletImages,
  options: StepOptions,
): Promise<
  StepStats & {
    readonly distA: Float32Array;
    readonly distB: Float32Array;
    readonly conditions: Int32Array;
  }
> {
  const n = model.checkBatch(batch);
  const parts: StepStats[] = [];
  const all = { distA: [] as number[], distB: [] as number[], conditions: [] as number[] };
  for (const [start, end] of microBatches(n, options.microBatch)) {
    const mb = sliceBatch(batch, start, end, model.imageSize);
    let conditions = mb.conditions;
    const outputs = tf.tidy(() => {
      const emb = model.forward(mb, { training: false, batched: options.batched });
      const p = tripletLoss(emb, options.loss ?? REFERENCE_LOSS);
      conditions = emb.conditions;
      return [tf.stack([p.total, p.triplet, p.embed, p.mask]), p.distA, p.distB];
    });
    const [values, distA, distB] = await Promise.all(outputs.map((t) => t.data()));
    tf.dispose(outputs);
    const [loss, triplet, embed, mask] = values!;
    const means = { loss: loss!, triplet: triplet!, embed: embed!, mask: mask! };
    parts.push(
      microStats(end - start, means, distA!, distB!, conditions, model.config.nConditions),
    );
    all.distA.push(...distA!);
    all.distB.push(...distB!);
    all.conditions.push(...conditions);
  }
  return {
    ...mergeStats(parts),
    distA: Float32Array.from(all.distA),
    distB: Float32Array.from(all.distB),
    conditions: Int32Array.from(all.conditions),
  };
}
