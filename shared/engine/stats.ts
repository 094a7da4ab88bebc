/**
 * Statistics of training steps and the one reduction that merges them: over micro-batches
 * within a replica, over replicas within a step, and over the steps of a log window or epoch.
 * Means are weighted by triplet counts; accuracy counts add up per condition.
 */
import type { Accuracy } from "../model/loss.ts";

export interface StepStats {
  readonly triplets: number;
  /** Means over the triplets of the loss and its parts. */
  readonly loss: number;
  readonly triplet: number;
  readonly embed: number;
  readonly mask: number;
  readonly accuracy: Accuracy;
}

const MEANS = ["loss", "triplet", "embed", "mask"] as const;

export function mergeStats(parts: readonly StepStats[]): StepStats {
  if (parts.length === 0) throw new RangeError("Cannot merge step statistics: there are none");
  const triplets = parts.reduce((n, p) => n + p.triplets, 0);
  const conditions = parts[0]!.accuracy.perCondition.length;
  const perCondition = Array.from({ length: conditions }, (_, c) => {
    const correct = parts.reduce((s, p) => s + (p.accuracy.perCondition[c]?.correct ?? 0), 0);
    const count = parts.reduce((s, p) => s + (p.accuracy.perCondition[c]?.count ?? 0), 0);
    return { correct, count, accuracy: correct / count };
  });
  const correct = parts.reduce((s, p) => s + p.accuracy.correct, 0);
  const mean = (key: typeof MEANS[number]) =>
    parts.reduce((s, p) => s + p[key] * p.triplets, 0) / triplets;
  return {
    triplets,
    loss: mean("loss"),
    triplet: mean("triplet"),
    embed: mean("embed"),
    mask: mean("mask"),
    accuracy: { accuracy: correct / triplets, correct, count: triplets, perCondition },
  };
}

/** The metrics-line form: accuracy per condition name (conditions that had triplets). */
export function namedSummary(stats: StepStats, names: readonly string[]) {
  const per_condition: Record<string, number> = {};
  names.forEach((name, c) => {
    const slot = stats.accuracy.perCondition[c];
    if (slot && slot.count > 0) per_condition[name] = slot.correct / slot.count;
  });
  return {
    loss: stats.loss,
    accuracy: stats.accuracy.accuracy,
    per_condition,
    embed_norm: stats.embed,
    mask_norm: stats.mask,
  };
}
