/**
 * The gallery a query searches: the images of one split (those its triplets use, as the test
 * stage evaluates) or every image, embedded by the run's checkpoint, from the run's cache when
 * it has them. The model is started only when something needs embedding, and with worker
 * threads only when a whole gallery does (one query image embeds faster in this thread).
 */
import { basename, join } from "node:path";
import { decodeCheckpoint } from "../weights/checkpoint.ts";
import { conditionNamesOf } from "../artefacts/checkpoint_meta.ts";
import { type BackendChoice } from "../engine/choices.ts";
import { resolveBackend } from "../engine/probe.ts";
import type { ModelConfig } from "../model/csn.ts";
import type { Split } from "../data/dataset.ts";
import type { ShardSet } from "../data/shards/reader.ts";
import { normalisationOf, normalisationTable, normaliseImage } from "../data/shards/normalise.ts";
import { embedImages, loadCheckpoint, type LoadedCheckpoint } from "../eval/model_eval.ts";
import { checkImageShape } from "../eval/image_shape.ts";
import { conditionMap, splitImages } from "../eval/split_images.ts";
import { describeModel, resolveRunModel, type RunModel } from "./run_model.ts";
import type { Project } from "../pipeline/project.ts";
import { openShards } from "../data/shards/reader.ts";
import {
  type Gallery,
  type GalleryKey,
  readGalleryCache,
  writeGalleryCache,
} from "./gallery_cache.ts";

export type GallerySplit = Split | "all";
export const GALLERY_SPLITS: readonly GallerySplit[] = ["test", "val", "train", "all"];

/** Shard record ids of a split's images (ascending); "all" is every image. */
export function galleryIds(
  shards: ShardSet,
  split: GallerySplit,
  conditionNames: readonly string[],
): Int32Array {
  if (split === "all") return Int32Array.from({ length: shards.count }, (_, i) => i);
  return splitImages(shards, split, conditionMap(shards, conditionNames)).ids;
}

/** The run's checkpoint: its header read at once, its weights loaded on first use. */
export class ModelSession {
  readonly config: ModelConfig;
  readonly conditionNames: readonly string[];
  #loaded?: Promise<LoadedCheckpoint>;

  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
    readonly options: { backend: BackendChoice; log: (m: string) => void },
  ) {
    const checkpoint = decodeCheckpoint(bytes, source);
    this.conditionNames = conditionNamesOf(checkpoint, source);
    this.config = checkpoint.config;
  }

  static async open(
    file: string,
    options: { backend: BackendChoice; log: (m: string) => void },
  ): Promise<ModelSession> {
    return new ModelSession(await Deno.readFile(file), file, options);
  }

  /** The loaded model; the first call's `workers` (0: this thread) decides the engine. */
  model(workers: number): Promise<LoadedCheckpoint> {
    this.#loaded ??= (async () => {
      // "auto" is settled here once: probed in every worker, the WebGPU adapter request
      // (a software one on CPU hosts) made the process crash at exit now and then.
      const backend = await resolveBackend(this.options.backend);
      const autoChosen = this.options.backend === "auto";
      return await loadCheckpoint(this.bytes, this.source, {
        ...this.options,
        backend,
        autoChosen,
        workers,
      });
    })();
    return this.#loaded;
  }

  async close(): Promise<void> {
    if (this.#loaded) (await this.#loaded).engine.close();
  }
}

/** Embeds raw uint8 HWC images of the shards' shape; one count x d array per backbone. */
export async function embedPixels(
  model: LoadedCheckpoint,
  shards: ShardSet,
  pixels: Uint8Array,
  count: number,
): Promise<Float32Array[]> {
  const size = shards.height * shards.width * shards.channels;
  if (pixels.length !== count * size) {
    throw new RangeError(
      `Cannot embed pixels: got ${pixels.length} bytes, expected ${count} x ${size}`,
    );
  }
  const { mean, std } = normalisationOf(shards.channels);
  const lut = normalisationTable(mean, std, shards.channels);
  const images = new Float32Array(count * size);
  for (let i = 0; i < count; i++) {
    const { height, width, channels } = shards;
    normaliseImage(pixels, i * size, images, i * size, height, width, channels, lut, false);
  }
  return await model.engine.embed(images, count, size);
}

export interface GalleryRequest {
  readonly runModel: RunModel;
  readonly shards: ShardSet;
  readonly session: ModelSession;
  readonly split: GallerySplit;
  /** Worker threads for embedding a gallery that is not cached yet. */
  readonly workers: number;
  readonly batchSize?: number;
  readonly log: (m: string) => void;
}

export interface ObtainedGallery {
  readonly gallery: Gallery;
  readonly cached: boolean;
  /** The cache header file. */
  readonly cacheFile: string;
}

export function cacheDirOf(runModel: RunModel): string {
  return join(runModel.runDir, "query-cache");
}

export function galleryKey(runModel: RunModel, split: GallerySplit): GalleryKey {
  const { checkpoint, shards } = runModel;
  return { checkpoint: checkpoint.id, file: basename(checkpoint.file), shards: shards.id, split };
}

/** The gallery from the run's cache, else embedded now and cached. */
export async function obtainGallery(request: GalleryRequest): Promise<ObtainedGallery> {
  const { runModel, shards, session, split, log } = request;
  const key = galleryKey(runModel, split);
  const dir = cacheDirOf(runModel);
  const hit = await readGalleryCache(dir, key);
  if ("gallery" in hit) return { gallery: hit.gallery, cached: true, cacheFile: hit.file };
  if (hit.miss !== "absent") log(`gallery: cache unusable (${hit.miss}); embedding again`);
  const ids = galleryIds(shards, split, session.conditionNames);
  const model = await session.model(request.workers);
  checkImageShape(model, shards, session.source);
  const started = performance.now();
  const embeddings = await embedImages(model, shards, ids, request.batchSize ?? 256);
  log(
    `gallery: embedded the ${split} gallery (${ids.length} images) in ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const gallery: Gallery = {
    ids,
    d: model.config.backbone.embedDim,
    embeddings,
    conditionNames: model.conditionNames,
    masks: model.masks,
  };
  const cacheFile = await writeGalleryCache(dir, key, gallery);
  return { gallery, cached: false, cacheFile };
}

/**
 * A run's model source, its shards and a session on its checkpoint, as a query or an export
 * starts; `action` names the caller in the log line.
 */
export async function openRunSession(
  project: Project,
  run: string,
  action: string,
  options: { backend: BackendChoice; log: (m: string) => void },
): Promise<{ runModel: RunModel; shards: ShardSet; session: ModelSession }> {
  const runModel = await resolveRunModel(project, run);
  options.log(`${action}: run "${runModel.run}", model ${describeModel(runModel)}`);
  const shards = await openShards(runModel.shards.dir);
  const session = await ModelSession.open(runModel.checkpoint.file, options);
  return { runModel, shards, session };
}
