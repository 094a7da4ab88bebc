/**
 * Load side of the images dataset: the label table (or the folder levels), the notions and
 * splits checked before any image is decoded, then decode, drop unreadable images under
 * max_bad_fraction, and sample triplets among the images that decoded.
 */
import { join } from "node:path";
import type { CommonPreprocessParams, LoadContext } from "../adapter.ts";
import type { Fit } from "../decode/mod.ts";
import { type LoadedDataset, type Notion, type Split, SPLITS } from "../dataset.ts";
import { decodeImages, dropSlots } from "./decode.ts";
import { folderTable, listImages, matchRows } from "./folder.ts";
import { IMAGES_DIR, imageSources, TRIPLETS_DIR } from "./layout.ts";
import { chooseNotions, type ImageNotion } from "./notions.ts";
import { keepDecoded } from "./keep.ts";
import { drawSplits, splitsFromColumn } from "./split.ts";
import { parseTripletFile } from "./triplet_file.ts";
import { checkLearnable, sampleImageTriplets } from "./triplets.ts";
import { type LabelTable, parseLabels } from "./table.ts";
import { closest } from "../../util/closest.ts";

export interface ImagesLoadOptions extends CommonPreprocessParams {
  readonly conditions?: readonly string[];
  readonly numeric: readonly string[];
  readonly min_gap: number;
  readonly split_column: string;
  readonly val_fraction: number;
  readonly test_fraction: number;
  readonly max_bad_fraction: number;
  readonly workers: number;
  readonly fit: Fit;
}

export async function loadImages(
  rawDir: string,
  p: ImagesLoadOptions,
  ctx: LoadContext,
): Promise<LoadedDataset> {
  const log = ctx.log;
  const sources = await imageSources.read(rawDir);
  const imagesDir = join(rawDir, IMAGES_DIR);
  const images = await listImages(imagesDir);
  const table: LabelTable = sources.labels === null
    ? folderTable(images, sources.path_column)
    : parseLabels(
      await Deno.readTextFile(join(rawDir, sources.labels.file)),
      sources.labels.name,
      sources.labels.format,
    );
  const paths = matchRows(table, sources.path_column, images, IMAGES_DIR).paths;
  const notions: ImageNotion[] = chooseNotions(table, {
    pathColumn: sources.path_column,
    splitColumn: p.split_column,
    conditions: p.conditions,
    numeric: p.numeric,
    log,
  });
  const judged = await readJudged(rawDir, sources.triplet_files, paths, notions);
  const splitColumn = table.columns.indexOf(p.split_column);
  const firstCategorical = notions.find((n) => n.kind === "categorical");
  const splitOf: Split[] = splitColumn >= 0
    ? splitsFromColumn(table, splitColumn)
    : drawSplits(firstCategorical?.labels ?? new Int32Array(paths.length).fill(-1), {
      valFraction: p.val_fraction,
      testFraction: p.test_fraction,
      seed: p.seed,
    });
  const counts = { train: p.num_train, val: p.num_val, test: p.num_test };
  const checked = notions.filter((_, c) => !judged.has(c));
  checkLearnable(checked, splitOf, counts, p.min_gap, `label file "${table.file}"`);

  const pixelFile = ctx.imagesFile ?? join(ctx.scratchDir, "images-decoding.u8");
  const bad = await decodeImages(
    paths.map((name) => ({ name, path: join(imagesDir, name) })),
    pixelFile,
    { size: p.size, fit: p.fit, workers: p.workers, log },
  );
  for (const b of bad.slice(0, 20)) {
    log(`images: unreadable image "${b.name}": ${b.reason} (${b.detail})`);
  }
  if (bad.length > p.max_bad_fraction * paths.length) {
    const examples = bad.slice(0, 5).map((b) => `"${b.name}" (${b.reason})`);
    throw new Error(
      `Cannot load images: too many unreadable images: ${bad.length} of ` +
        `${paths.length} (${(100 * bad.length / paths.length).toFixed(2)} %), more ` +
        `than max_bad_fraction ${p.max_bad_fraction}; e.g. ${examples.join(", ")}`,
    );
  }
  // Keep the images that decoded; every per-image array follows the compaction.
  const badSet = new Set(bad.map((b) => b.index));
  await dropSlots(pixelFile, paths.length, p.size, badSet);
  const kept = keepDecoded(paths.length, badSet, notions, judged, splitOf);
  const keep = kept.keep;
  const sampled = sampleImageTriplets({
    notions: kept.notions,
    judged: kept.judged,
    splitOf: kept.splitOf,
    counts,
    minGap: p.min_gap,
    seed: p.seed,
  });
  const labels: Record<string, Int32Array> = {};
  const described: Notion[] = kept.notions.map((n) => {
    if (n.kind === "categorical") labels[n.name] = n.labels;
    return { name: n.name, values: n.kind === "categorical" ? n.values : [] };
  });
  log(
    `images: ${keep.length} images at ${p.size}x${p.size}, notions ` +
      kept.notions.map((n, c) => `${n.name} (${judged.has(c) ? "judged" : n.kind})`).join(", ") +
      `; triplets ` + SPLITS.map((s) => `${s} ${sampled.triplets[s].length / 4}`).join(", "),
  );
  return {
    dataset: "images",
    height: p.size,
    width: p.size,
    channels: 3,
    decode: { size: p.size, fit: p.fit },
    names: keep.map((i) => paths[i]!),
    pixels: ctx.imagesFile === undefined
      ? await readAndRemove(pixelFile)
      : { file: ctx.imagesFile },
    notions: described,
    labels,
    triplets: sampled.triplets,
    report: {
      images: keep.length,
      labels: sources.labels?.name ?? "folder levels",
      unlabelled: sources.unlabelled,
      notions: Object.fromEntries(
        notions.map((n, c) => [n.name, judged.has(c) ? "judged" : n.kind]),
      ),
      splits: Object.fromEntries(
        SPLITS.map((s) => [s, kept.splitOf.filter((x) => x === s).length]),
      ),
      split_from: splitColumn >= 0 ? `column ${p.split_column}` : "drawn",
      badImages: bad.map(({ name, reason }) => ({ name, reason })),
      droppedJudgedTriplets: kept.droppedJudged,
      tripletsPerNotion: sampled.perNotion,
      numericShort: sampled.short,
    },
  };
}

/** The user's triplet files, per notion index; a file for an unknown notion is an error. */
async function readJudged(
  rawDir: string,
  files: readonly string[],
  paths: readonly string[],
  notions: ImageNotion[],
): Promise<Map<number, Int32Array>> {
  const judged = new Map<number, Int32Array>();
  for (const file of files) {
    const name = file.replace(/\.txt$/, "");
    let c = notions.findIndex((n) => n.name === name);
    if (c < 0) {
      // A notion known only from judgements: added after the columns.
      const hint = closest(name, notions.map((n) => n.name));
      if (hint !== undefined) {
        throw new RangeError(
          `Cannot use triplet file "${file}": no notion "${name}"; did you mean "${hint}"? ` +
            `Notions: ${notions.map((n) => n.name).join(", ")}`,
        );
      }
      c = notions.push({ kind: "judged", name }) - 1;
    }
    const text = await Deno.readTextFile(join(rawDir, TRIPLETS_DIR, file));
    judged.set(c, parseTripletFile(text, file, paths));
  }
  return judged;
}

/** A scratch pixel file's bytes (no artefact file to stream to: tests, tools). */
async function readAndRemove(path: string): Promise<Uint8Array> {
  const bytes = await Deno.readFile(path);
  await Deno.remove(path);
  return bytes;
}
