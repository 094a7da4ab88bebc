/**
 * Evaluating a checkpoint: every image a split uses is embedded once (in parallel replicas),
 * then triplets are scored and retrieval measured from those cached embeddings.
 */
import { decodeCheckpoint } from "../weights/checkpoint.ts";
import type { BackendChoice } from "../engine/choices.ts";
import type { ModelConfig } from "../model/csn.ts";
import type { ShardSet } from "../data/shards/reader.ts";
import { readNormalised } from "../data/shards/images.ts";
import { conditionMap, splitImages } from "./split_images.ts";
import type { Split } from "../data/dataset.ts";
import { Engine } from "../engine/engine.ts";
import { normalisationOf } from "../data/shards/normalise.ts";
import { scoreTriplets } from "./triplet_scores.ts";
import { type RetrievalMetrics, retrievalMetrics } from "./retrieval.ts";
import { conditionNamesOf } from "../artefacts/checkpoint_meta.ts";
import { checkImageShape } from "./image_shape.ts";

export interface LoadedCheckpoint {
  readonly engine: Engine;
  readonly config: ModelConfig;
  readonly conditionNames: string[];
  /** Masks as used in the forward pass (conditions x d); all ones without csn masks. */
  readonly masks: Float32Array;
}

export async function loadCheckpoint(
  bytes: Uint8Array,
  source: string,
  options: {
    workers: number;
    backend: BackendChoice;
    /** `backend` is what "auto" settled on. */
    autoChosen?: boolean;
    log: (m: string) => void;
  },
): Promise<LoadedCheckpoint> {
  const checkpoint = decodeCheckpoint(bytes, source);
  const conditionNames = conditionNamesOf(checkpoint, source);
  const engine = await Engine.open({
    workers: options.workers,
    model: {
      config: checkpoint.config,
      backend: options.backend,
      autoChosen: options.autoChosen,
      checkpoint: bytes,
    },
    log: options.log,
  });
  const d = checkpoint.config.backbone.embedDim;
  const masks = (await engine.masks()) ?? new Float32Array(conditionNames.length * d).fill(1);
  return { engine, config: checkpoint.config, conditionNames, masks };
}

/** Embeds the given images (eval mode), `batch` at a time; one [n x d] array per backbone. */
export async function embedImages(
  model: LoadedCheckpoint,
  shards: ShardSet,
  ids: Int32Array,
  batch = 256,
): Promise<Float32Array[]> {
  const { mean, std } = normalisationOf(shards.channels);
  const pixels = shards.height * shards.width * shards.channels;
  const d = model.config.backbone.embedDim;
  const nets = model.config.mode === "task-specific" ? model.config.nConditions : 1;
  const out = Array.from({ length: nets }, () => new Float32Array(ids.length * d));
  const reader = shards.records();
  try {
    for (let start = 0; start < ids.length; start += batch) {
      const chunk = ids.subarray(start, Math.min(ids.length, start + batch));
      const images = readNormalised(shards, reader, chunk, mean, std);
      const embedded = await model.engine.embed(images, chunk.length, pixels);
      embedded.forEach((e, net) => out[net]!.set(e, start * d));
    }
  } finally {
    reader.close();
  }
  return out;
}

export interface TripletResult {
  readonly accuracy: number;
  readonly loss: number;
  readonly triplets: number;
  readonly per_condition: Record<string, number>;
  readonly counts: Record<string, number>;
}

/** Scores triplets; task-specific models score each condition with its own network. */
export function scoreSplit(
  model: LoadedCheckpoint,
  embeddings: Float32Array[],
  triplets: Int32Array,
  margin = 0.2,
): TripletResult {
  const d = model.config.backbone.embedDim;
  const names = model.conditionNames;
  const correct = new Float64Array(names.length);
  const counts = new Float64Array(names.length);
  let lossSum = 0;
  const groups = embeddings.length === 1
    ? [{ emb: embeddings[0]!, table: triplets }]
    : embeddings.map((emb, net) => ({ emb, table: onlyCondition(triplets, net) }));
  for (const { emb, table } of groups) {
    if (table.length === 0) continue;
    const s = scoreTriplets(emb, d, model.masks, table, margin);
    lossSum += s.loss * (table.length / 4);
    s.counts.forEach((n, c) => {
      counts[c]! += n;
      if (n > 0) correct[c]! += s.per_condition[c]! * n;
    });
  }
  const total = triplets.length / 4;
  const per_condition: Record<string, number> = {};
  const countsByName: Record<string, number> = {};
  names.forEach((name, c) => {
    countsByName[name] = counts[c]!;
    if (counts[c]! > 0) per_condition[name] = correct[c]! / counts[c]!;
  });
  return {
    accuracy: correct.reduce((a, b) => a + b, 0) / total,
    loss: lossSum / total,
    triplets: total,
    per_condition,
    counts: countsByName,
  };
}

function onlyCondition(triplets: Int32Array, condition: number): Int32Array {
  const out: number[] = [];
  for (let t = 0; t < triplets.length; t += 4) {
    if (triplets[t + 3] === condition) out.push(...triplets.subarray(t, t + 4));
  }
  return Int32Array.from(out);
}

/** Retrieval per notion that has labels, in that notion's masked subspace. */
export function retrievalByCondition(
  model: LoadedCheckpoint,
  shards: ShardSet,
  embeddings: Float32Array[],
  ids: Int32Array,
): Record<string, RetrievalMetrics> {
  const d = model.config.backbone.embedDim;
  const result: Record<string, RetrievalMetrics> = {};
  model.conditionNames.forEach((name, c) => {
    const all = shards.labels[name];
    const notion = shards.notions.find((n) => n.name === name);
    if (!all || !notion || notion.values.length === 0) return;
    const labels = Int32Array.from(ids, (id) => all[id]!);
    if (!labels.some((l) => l >= 0)) return;
    const emb = embeddings.length === 1 ? embeddings[0]! : embeddings[c]!;
    result[name] = retrievalMetrics(emb, d, model.masks.subarray(c * d, (c + 1) * d), labels);
  });
  return result;
}

export interface CheckpointEvaluation extends TripletResult {
  readonly mode: ModelConfig["mode"];
  readonly maskKind: ModelConfig["masks"];
  readonly conditionNames: string[];
  /** Masks as used (conditions x d, row-major); ones without csn masks. */
  readonly masks: Float32Array;
  /** Images embedded (those the split's triplets use). */
  readonly images: number;
  readonly embedSeconds: number;
  /** Per labelled notion, when asked for. */
  readonly retrieval: Record<string, RetrievalMetrics>;
  /** The split's images and their embeddings (one [n x d] array per backbone). */
  readonly ids: Int32Array;
  readonly embeddings: Float32Array[];
}

/**
 * The whole evaluation of one checkpoint file on a split: load it into replicas, check it
 * fits the shards, embed every image the split uses once, score the triplets, and optionally
 * measure retrieval per notion. The replicas are closed before returning.
 */
export async function evaluateCheckpoint(
  file: string,
  shards: ShardSet,
  options: {
    split: Split;
    workers: number;
    backend: BackendChoice;
    batchSize: number;
    margin: number;
    retrieval: boolean;
    log: (m: string) => void;
  },
): Promise<CheckpointEvaluation> {
  const model = await loadCheckpoint(await Deno.readFile(file), file, options);
  try {
    checkImageShape(model, shards, file);
    const split = splitImages(shards, options.split, conditionMap(shards, model.conditionNames));
    const started = performance.now();
    const embeddings = await embedImages(model, shards, split.ids, options.batchSize);
    const embedSeconds = (performance.now() - started) / 1000;
    const score = scoreSplit(model, embeddings, split.triplets, options.margin);
    return {
      ...score,
      mode: model.config.mode,
      maskKind: model.config.masks,
      conditionNames: model.conditionNames,
      masks: model.masks,
      images: split.ids.length,
      embedSeconds,
      ids: split.ids,
      embeddings,
      retrieval: options.retrieval
        ? retrievalByCondition(model, shards, embeddings, split.ids)
        : {},
    };
  } finally {
    model.engine.close();
  }
}
