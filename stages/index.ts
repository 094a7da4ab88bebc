/**
 * index: embeds a catalog under one checkpoint (validate's best by default) for serving:
 * every image of the shards (or one split's), each with its path and labels, as one artefact
 * (shared/artefacts/catalog_index.ts). Its inputs are the model and the images, so the cache
 * key changes, and embedding reruns, only when one of them does.
 */
import { basename } from "node:path";
import { z } from "zod";
import { defineStage } from "../shared/stage/contract.ts";
import {
  type CatalogIndex,
  INDEX_FORMAT,
  type IndexItem,
  writeCatalogIndex,
} from "../shared/artefacts/catalog_index.ts";
import { toRows } from "../shared/util/rows.ts";
import { modelCheckpoint } from "../shared/eval/eval_inputs.ts";
import { conditionMap, splitImages } from "../shared/eval/split_images.ts";
import { checkImageShape } from "../shared/eval/image_shape.ts";
import { openShards, type ShardSet } from "../shared/data/shards/reader.ts";
import type { BackendChoice } from "../shared/engine/choices.ts";
import {
  EvalParamsShape,
  evalRuntimeFacts,
  VOLATILE_EVAL_PARAMS,
} from "../shared/eval/eval_params.ts";

const { batch_size, workers, backend } = EvalParamsShape;

/** Each item's path and its value of every notion the model knows. */
function itemsOf(
  shards: ShardSet,
  names: readonly string[],
  ids: Int32Array,
  notions: readonly string[],
): IndexItem[] {
  const tables = notions.map((name) => ({
    name,
    labels: shards.labels[name],
    values: shards.notions.find((n) => n.name === name)?.values ?? [],
  }));
  return Array.from(ids, (record) => ({
    record,
    path: names[record]!,
    labels: Object.fromEntries(tables.map(({ name, labels, values }) => {
      const label = labels?.[record] ?? -1;
      return [name, label >= 0 ? values[label] ?? String(label) : null];
    })),
  }));
}

export default defineStage({
  name: "index",
  description: "embeds the catalog's images under a checkpoint, with paths and labels, to serve",
  params: z.object({
    batch_size,
    workers,
    backend,
    /** The catalog: every image of the shards, or the images one split's triplets use. */
    split: z.enum(["all", "train", "val", "test"]).default("all"),
  }),
  inputs: ["model", "shards"],
  outputs: ["index"],
  volatileParams: VOLATILE_EVAL_PARAMS,
  runtimeFacts: evalRuntimeFacts,
  async run(ctx) {
    const file = await modelCheckpoint(ctx);
    const shards = await openShards(ctx.inputs.shards!.dir);
    // TensorFlow.js loads only now, not for cached reruns.
    const { embedImages, loadCheckpoint } = await import(
      new URL("../shared/eval/model_eval.ts", import.meta.url).href
    ) as typeof import("../shared/eval/model_eval.ts");
    const model = await loadCheckpoint(await Deno.readFile(file), file, {
      workers: ctx.params.workers,
      backend: ctx.params.backend as BackendChoice,
      log: ctx.log,
    });
    try {
      checkImageShape(model, shards, file);
      const split = ctx.params.split;
      const ids = split === "all"
        ? Int32Array.from({ length: shards.count }, (_, i) => i)
        : splitImages(shards, split, conditionMap(shards, model.conditionNames)).ids;
      const started = performance.now();
      const embeddings = await embedImages(model, shards, ids, ctx.params.batch_size);
      const seconds = (performance.now() - started) / 1000;
      ctx.log(`index: embedded ${ids.length} images (${split}) in ${seconds.toFixed(1)} s`);
      const d = model.config.backbone.embedDim;
      const notions = model.conditionNames.map((name) => ({
        name,
        values: [...(shards.notions.find((n) => n.name === name)?.values ?? [])],
      }));
      const header: CatalogIndex = {
        format: INDEX_FORMAT,
        model: ctx.inputs.model!.id,
        checkpoint: basename(file),
        shards: ctx.inputs.shards!.id,
        split,
        mode: model.config.mode,
        masks: model.config.masks,
        d,
        networks: embeddings.length,
        image: { height: shards.height, width: shards.width, channels: shards.channels },
        notions,
        mask_values: toRows(model.masks, notions.length),
        count: ids.length,
        items: itemsOf(shards, await shards.names(), ids, model.conditionNames),
      };
      await writeCatalogIndex(ctx.outputs.index!, { header, embeddings });
      return { metrics: { items: ids.length, d, networks: embeddings.length, seconds } };
    } finally {
      model.engine.close();
    }
  },
});
