/**
 * One query of a run's model: the k gallery images nearest to a query image under one
 * notion's masked subspace, D_c(x, y) = || (f(x) - f(y)) * m_c ||_2, with a contact sheet.
 * The query is a gallery image (`index`: its place in the gallery, which the results leave
 * out, so the first neighbour is never the query itself) or an image file (`image`).
 */
import { exists } from "../util/fs.ts";
import { UsageError } from "../util/usage_error.ts";
import { dirname, join } from "node:path";
import type { BackendChoice } from "../engine/choices.ts";
import type { Notion } from "../data/dataset.ts";
import type { ShardSet } from "../data/shards/reader.ts";
import type { Project } from "../pipeline/project.ts";
import { checkImageShape } from "../eval/image_shape.ts";
import { nearest } from "../eval/knn.ts";
import { closest } from "../util/closest.ts";
import {
  embedPixels,
  galleryIds,
  type GallerySplit,
  obtainGallery,
  openRunSession,
} from "./gallery.ts";
import { inputShapeOf, loadInputImage } from "./image_input.ts";
import type { ModelSource } from "./run_model.ts";
import { querySheet } from "./query_sheet.ts";

export interface QueryOptions {
  readonly run: string;
  readonly notion: string;
  /** Exactly one of image and index. */
  readonly image?: string;
  readonly index?: number;
  readonly k: number;
  readonly split: GallerySplit;
  /** Contact sheet path; default runs/NAME/query-<notion>.png. */
  readonly out?: string;
  readonly invert?: boolean;
  readonly workers: number;
  readonly backend: BackendChoice;
  readonly log: (message: string) => void;
}

export interface Neighbour {
  readonly rank: number;
  /** Place in the gallery (what --index takes). */
  readonly index: number;
  /** Shard record id. */
  readonly record: number;
  readonly name: string;
  readonly distance: number;
  /** The notion's value for this image, null where unlabelled. */
  readonly value: string | null;
}

export interface QueryResult {
  readonly run: string;
  readonly model: {
    readonly source: ModelSource;
    readonly artefact: string;
    readonly file: string;
  };
  readonly notion: string;
  readonly split: GallerySplit;
  readonly k: number;
  readonly query: {
    readonly index: number | null;
    readonly record: number | null;
    readonly image: string | null;
    readonly name: string;
    readonly value: string | null;
  };
  readonly neighbours: Neighbour[];
  readonly gallery: { readonly images: number; readonly cached: boolean; readonly cache: string };
  readonly sheet: string;
  readonly seconds: { readonly gallery: number; readonly total: number };
}

/** The notion by name, or an error listing the dataset's and the model's notions. */
export function checkNotion(
  shards: ShardSet,
  modelNotions: readonly string[],
  name: string,
  run: string,
): Notion {
  const notion = shards.notions.find((n) => n.name === name);
  const known = shards.notions.map((n) => n.name);
  if (!notion) {
    const hint = closest(name, known);
    throw new UsageError(
      `Cannot query notion "${name}": it is unknown` + (hint ? ` (did you mean "${hint}"?)` : "") +
        `; the dataset of run "${run}" has notions ${known.join(", ")}`,
    );
  }
  if (!modelNotions.includes(name)) {
    throw new TypeError(
      `Cannot query notion "${name}": the model of run "${run}" was not trained on it; it knows ` +
        modelNotions.join(", "),
    );
  }
  return notion;
}

export function notionSlug(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, "_");
}

export async function runQuery(project: Project, options: QueryOptions): Promise<QueryResult> {
  const started = performance.now();
  const { log, k } = options;
  if ((options.image === undefined) === (options.index === undefined)) {
    throw new TypeError("Cannot query: expected exactly one of an image file and a gallery index");
  }
  if (!Number.isInteger(k) || k < 1) {
    throw new RangeError(`Cannot query: k is ${k}, expected an integer >= 1`);
  }
  const { runModel, shards, session } = await openRunSession(project, options.run, "query", {
    backend: options.backend,
    log,
  });
  try {
    const notion = checkNotion(shards, session.conditionNames, options.notion, runModel.run);
    const ids = galleryIds(shards, options.split, session.conditionNames);
    if (ids.length === 0) {
      throw new RangeError(
        `Cannot query run "${runModel.run}": its ${options.split} gallery is empty`,
      );
    }
    const index = options.index;
    if (index !== undefined && !(Number.isInteger(index) && index >= 0 && index < ids.length)) {
      throw new UsageError(
        `Cannot query index ${index}: it is out of range, the ${options.split} gallery of run ` +
          `"${runModel.run}" has ${ids.length} images (0 to ${ids.length - 1})`,
      );
    }
    // Decoded as preprocess decoded the run's images (its dataset's recorded size and fit).
    const shape = inputShapeOf(shards, options.invert);
    const imagePixels = options.image === undefined
      ? undefined
      : await loadInputImage(options.image, shape);

    const galleryStarted = performance.now();
    const { gallery, cached, cacheFile } = await obtainGallery({
      runModel,
      shards,
      session,
      split: options.split,
      workers: options.workers,
      log,
    });
    const gallerySeconds = (performance.now() - galleryStarted) / 1000;
    const c = gallery.conditionNames.indexOf(notion.name);
    const d = gallery.d;
    const embeddings = gallery.embeddings.length === 1
      ? gallery.embeddings[0]!
      : gallery.embeddings[c]!;
    let query: Float32Array;
    if (imagePixels) {
      // The gallery may come from the cache: one image embeds fastest in this thread.
      const model = await session.model(0);
      checkImageShape(model, shards, session.source);
      const embedded = await embedPixels(model, shards, imagePixels, 1);
      query = embedded.length === 1 ? embedded[0]! : embedded[c]!;
    } else {
      query = embeddings.slice(index! * d, (index! + 1) * d);
    }
    const mask = gallery.masks.subarray(c * d, (c + 1) * d);
    const found = nearest(embeddings, d, mask, query, k, index === undefined ? [] : [index]);

    const names = await shards.names();
    const labels = shards.labels[notion.name];
    const valueOf = (record: number): string | null => {
      const label = labels?.[record] ?? -1;
      return label >= 0 ? notion.values[label] ?? String(label) : null;
    };
    const neighbours: Neighbour[] = Array.from(found.indices, (place, i) => ({
      rank: i + 1,
      index: place,
      record: gallery.ids[place]!,
      name: names[gallery.ids[place]!]!,
      distance: found.distances[i]!,
      value: valueOf(gallery.ids[place]!),
    }));
    const queryRecord = index === undefined ? null : gallery.ids[index]!;
    const queryInfo = {
      index: index ?? null,
      record: queryRecord,
      image: options.image ?? null,
      name: queryRecord === null ? options.image! : names[queryRecord]!,
      value: queryRecord === null ? null : valueOf(queryRecord),
    };

    const sheet = options.out ?? join(runModel.runDir, `query-${notionSlug(notion.name)}.png`);
    await writeSheet(sheet, shards, imagePixels, queryInfo, neighbours);
    return {
      run: runModel.run,
      model: {
        source: runModel.checkpoint.source,
        artefact: runModel.checkpoint.id,
        file: runModel.checkpoint.file,
      },
      notion: notion.name,
      split: options.split,
      k,
      query: queryInfo,
      neighbours,
      gallery: { images: gallery.ids.length, cached, cache: cacheFile },
      sheet,
      seconds: { gallery: gallerySeconds, total: (performance.now() - started) / 1000 },
    };
  } finally {
    await session.close();
  }
}

async function writeSheet(
  path: string,
  shards: ShardSet,
  imagePixels: Uint8Array | undefined,
  query: QueryResult["query"],
  neighbours: readonly Neighbour[],
): Promise<void> {
  const records = [
    ...(query.record === null ? [] : [query.record]),
    ...neighbours.map((n) => n.record),
  ];
  const raw = new Uint8Array(records.length * shards.recordBytes);
  const reader = shards.records();
  try {
    reader.readInto(records, raw);
  } finally {
    reader.close();
  }
  const rb = shards.recordBytes;
  const first = imagePixels ?? raw.subarray(0, rb);
  const offset = imagePixels ? 0 : 1;
  const entries = [
    { pixels: first, caption: `query${query.value ? ` ${query.value}` : ""}` },
    ...neighbours.map((n, i) => ({
      pixels: raw.subarray((i + offset) * rb, (i + offset + 1) * rb),
      caption: `${n.rank} ${n.distance.toFixed(2)}${n.value ? ` ${n.value}` : ""}`,
    })),
  ];
  const png = querySheet(entries, shards);
  // Made only when missing: `deno task query` may write the sheet alone (cli/fence.ts).
  if (!(await exists(dirname(path)))) await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeFile(path, png);
}
