/**
 * A training run's per-epoch history, whole across resumes: the summaries travel inside each
 * epoch checkpoint (without timings, so a resumed run's checkpoints stay bit-identical to an
 * uninterrupted run's), and the seconds of epochs run before a kill come back from their epoch
 * lines in metrics.jsonl.
 */
import { decodeCheckpoint } from "../weights/checkpoint.ts";
import type { MetricsRecord } from "../artefacts/metrics_log.ts";
import { type CarriedEpoch, CarriedHistorySchema } from "../artefacts/checkpoint_meta.ts";

export interface EpochSummary {
  epoch: number;
  lr: number;
  loss: number;
  accuracy: number;
  per_condition: Record<string, number>;
  /** Wall time of the epoch; 0 when unknown (it ran before a kill and left no epoch line). */
  seconds: number;
  /** Training triplets seen up to the end of this epoch (the last may be cut by a budget). */
  triplets_seen: number;
}

/** What a checkpoint carries of an epoch: everything but its timing. */
export function carried(summary: EpochSummary): CarriedEpoch {
  const { epoch, lr, loss, accuracy, per_condition, triplets_seen } = summary;
  return { epoch, lr, loss, accuracy, per_condition, triplets_seen };
}

/**
 * The history up to the checkpoint a run resumes from: from the checkpoint itself, or, for
 * checkpoints written before they carried it, from the kept epoch lines. Seconds come from the
 * epoch lines' throughput (triplets per epoch / triplets per second).
 */
export function resumedHistory(
  checkpoint: Uint8Array,
  source: string,
  lines: readonly MetricsRecord[],
  perEpoch: number,
): EpochSummary[] {
  const epochLines = new Map(
    lines.filter((l) => l.kind === "epoch").map((l) => [l.epoch, l] as const),
  );
  const meta = decodeCheckpoint(checkpoint, source).meta;
  const parsed = CarriedHistorySchema.safeParse(meta.history);
  const entries: CarriedEpoch[] = parsed.success ? parsed.data : [...epochLines.values()]
    .filter((l) => l.epoch <= meta.epoch)
    .map((l) => ({
      epoch: l.epoch,
      lr: l.lr ?? 0,
      loss: l.loss ?? 0,
      accuracy: l.accuracy ?? 0,
      per_condition: l.per_condition ?? {},
      triplets_seen: l.triplets_seen,
    }));
  return entries.map((entry) => {
    const rate = epochLines.get(entry.epoch)?.triplets_per_s;
    return {
      ...entry,
      triplets_seen: entry.triplets_seen ?? entry.epoch * perEpoch,
      seconds: rate && rate > 0 ? perEpoch / rate : 0,
    };
  });
}
