/**
 * A Service on an index artefact of the project's store: the catalog (its search spaces built
 * once), the checkpoint the index names (loaded at start, in this thread: one image at a
 * time embeds fastest there) and the shards its images come from (for item images).
 */
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import type { Project } from "../pipeline/project.ts";
import { readCatalogIndex } from "../artefacts/catalog_index.ts";
import { openShards } from "../data/shards/reader.ts";
import type { BackendChoice } from "../engine/choices.ts";
import { checkImageShape } from "../eval/image_shape.ts";
import { openArtefact } from "../explore/run_model.ts";
import { embedPixels, ModelSession } from "../explore/gallery.ts";
import { inputShapeOf } from "../explore/image_input.ts";
import { Limiter } from "../util/limit.ts";
import type { Service } from "./api.ts";
import { Catalog } from "./catalog.ts";

export interface OpenedService extends Service {
  /** Releases the engine and the shard files. */
  close(): Promise<void>;
}

export async function openService(
  project: Project,
  indexId: string,
  options: { backend: BackendChoice; log: (m: string) => void },
): Promise<OpenedService> {
  const dir = await openArtefact(project, indexId, "the index");
  const started = performance.now();
  const catalog = new Catalog(await readCatalogIndex(dir));
  const { header } = catalog;
  options.log(
    `serve: index ${indexId.slice(0, 12)}: ${header.count} items, ${header.notions.length} ` +
      `notions, search spaces built in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const modelDir = await openArtefact(project, header.model, "the model the index names");
  const file = join(modelDir, header.checkpoint);
  const session = await ModelSession.open(file, options);
  const shardsDir = await openArtefact(project, header.shards, "the images the index names");
  const shards = await openShards(shardsDir);
  // Loaded now, not on the first upload: a model that cannot load stops the start.
  const model = await session.model(0);
  checkImageShape(model, shards, file);
  // One blank image now: the backend builds its kernels for batch 1 (oneDNN primitives, wasm
  // programs; 20-70 ms) at start rather than on the first upload.
  await embedPixels(
    model,
    shards,
    new Uint8Array(shards.height * shards.width * shards.channels),
    1,
  );
  const reader = shards.records();
  // One image at a time through the engine; uploads beyond it wait their turn.
  const engineTurn = new Limiter(1);
  const { height, width, channels } = header.image;
  return {
    catalog,
    input: inputShapeOf(shards),
    embed: (pixels) => engineTurn.run(() => embedPixels(model, shards, pixels, 1)),
    itemImage(id) {
      const pixels = new Uint8Array(shards.recordBytes);
      reader.readInto([header.items[id]!.record], pixels);
      return encodePng({ width, height, data: pixels, channels, depth: 8 });
    },
    async close() {
      reader.close();
      await session.close();
    },
  };
}
