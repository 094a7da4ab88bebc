/**
 * Load side of the Zappos dataset: unpack the fetched archives, read and validate the triplet
 * lists, sample them (seeded, even over conditions), decode only the images the kept triplets
 * use, and return a DecodedDataset whose triplets index the decoded image list.
 */
import { join } from "node:path";
import {
  type DecodedDataset,
  type LoadedDataset,
  type PixelFile,
  type Split,
  SPLITS,
  type TripletTable,
} from "../dataset.ts";
import { Rng } from "../../util/rng.ts";
import { unzipTo } from "../unzip.ts";
import { removeTree } from "../../util/fs.ts";
import {
  archiveNames,
  findFilenames,
  findImagesPrefix,
  findTripletLists,
} from "./archive_layout.ts";
import { categoryLabels } from "./category.ts";
import { compactSlots, decodeToFile } from "../decode/mod.ts";
import { parseFilenames } from "./filenames.ts";
import { checkConditions, TRIPLET_DIR, tripletFileName } from "./layout.ts";
import { sampleTriplets } from "./sample.ts";
import { parseTripletList } from "./triplets.ts";

export interface ZapposLoadOptions {
  size: number;
  conditions: readonly string[];
  numTrain: number;
  numVal: number;
  numTest: number;
  seed: number;
  maxBadFraction: number;
  workers: number;
  /**
   * Where to unpack (a folder of its own is made inside and removed after): the stage's work
   * folder, so a killed run leaves nothing in the system temp dir and its rerun clears the
   * leftover. Default: a new temp folder.
   */
  scratchDir?: string;
  /**
   * Where to stream the decoded pixels (the artefact's images file): the result's pixels are
   * then `{ file }`, and memory stays bounded whatever the dataset's size. Default: the
   * pixels come back in memory.
   */
  imagesFile?: string;
}

type Streamed = Omit<DecodedDataset, "pixels"> & { readonly pixels: PixelFile };

export function loadZappos(
  rawDir: string,
  opts: ZapposLoadOptions & { imagesFile: string },
  log: (m: string) => void,
): Promise<Streamed>;
export function loadZappos(
  rawDir: string,
  opts: ZapposLoadOptions & { imagesFile?: undefined },
  log: (m: string) => void,
): Promise<DecodedDataset>;
export function loadZappos(
  rawDir: string,
  opts: ZapposLoadOptions,
  log: (m: string) => void,
): Promise<LoadedDataset>;
export async function loadZappos(
  rawDir: string,
  opts: ZapposLoadOptions,
  log: (m: string) => void,
): Promise<LoadedDataset> {
  const conditions = checkConditions(opts.conditions);
  if (!(opts.maxBadFraction >= 0 && opts.maxBadFraction <= 1)) {
    throw new RangeError(
      `Cannot load zappos: maxBadFraction = ${opts.maxBadFraction}, expected a number in [0, 1]`,
    );
  }
  const counts: Record<Split, number> = {
    train: opts.numTrain,
    val: opts.numVal,
    test: opts.numTest,
  };
  const archives = await archiveNames(rawDir);
  const temp = opts.scratchDir === undefined
    ? await Deno.makeTempDir({ prefix: "csn-zappos-" })
    : await freshDir(join(opts.scratchDir, "zappos-unpack"));
  try {
    // Triplets first: a malformed list fails in a second, before 300 MB of images unpack.
    const tripletsDir = join(temp, "triplets");
    const tripletEntries = await unzipTo(join(rawDir, archives.triplets), tripletsDir);
    const filenamesPath = findFilenames(tripletEntries, archives.triplets);
    const filenames = parseFilenames(
      await Deno.readTextFile(join(tripletsDir, filenamesPath)),
      filenamesPath,
    );
    const lists = findTripletLists(tripletEntries);
    const available: Record<string, Record<string, number>> = {};
    const sampled: Record<string, Record<string, number>> = {};
    const chosen = {} as Record<Split, TripletTable>;
    const short: string[] = [];
    for (const split of SPLITS) {
      const perCondition: Int32Array[] = [];
      for (const condition of conditions) {
        const name = tripletFileName(condition, split);
        const path = lists.get(name);
        if (path === undefined) {
          throw new Error(
            `Cannot find triplet file "${TRIPLET_DIR}/${name}" in "${archives.triplets}"`,
          );
        }
        const text = await Deno.readTextFile(join(tripletsDir, path));
        perCondition.push(parseTripletList(text, path, filenames.length));
      }
      const result = sampleTriplets(perCondition, counts[split], Rng.derive(opts.seed, split));
      chosen[split] = result.triplets;
      available[split] = Object.fromEntries(
        conditions.map((c, i) => [c, perCondition[i]!.length / 3]),
      );
      sampled[split] = Object.fromEntries(conditions.map((c, i) => [c, result.taken[i]!]));
      conditions.forEach((c, i) => {
        if (result.taken[i]! < result.wanted[i]!) {
          short.push(`${split}/${c} ${result.taken[i]} of ${result.wanted[i]}`);
        }
      });
    }
    // One line for every split and condition, not one per shortfall.
    log(
      `zappos: triplets used ` +
        SPLITS.map((split) =>
          `${split} ${chosen[split].length / 4} (` +
          conditions.map((c) => `${c} ${sampled[split]![c]}`).join(", ") + `)`
        ).join("; ") +
        (short.length ? `; the lists hold fewer than the even share for ${short.join(", ")}` : ""),
    );

    // Decode each image the kept triplets use, once, in filenames.json order.
    const used = new Uint8Array(filenames.length);
    for (const split of SPLITS) {
      const t = chosen[split];
      for (let i = 0; i < t.length; i += 4) used[t[i]!] = used[t[i + 1]!] = used[t[i + 2]!] = 1;
    }
    const usedIndices: number[] = [];
    used.forEach((u, i) => u && usedIndices.push(i));
    log(
      `zappos: ${usedIndices.length} of ${filenames.length} images used by the sampled triplets`,
    );

    const imagesDir = join(temp, "images");
    const imageEntries = await unzipTo(join(rawDir, archives.images), imagesDir);
    log(`zappos: unpacked ${imageEntries.length} files from ${archives.images}`);
    const prefix = findImagesPrefix(imageEntries, filenames, archives.images);
    const items = usedIndices.map((index, slot) => ({
      slot,
      name: filenames[index]!,
      path: join(imagesDir, prefix + filenames[index]!),
    }));
    const imagesFile = opts.imagesFile ?? join(temp, "images.u8");
    // Recorded in the facts: queries decode a user's photo the same way.
    const decode = { size: opts.size, fit: "crop" } as const;
    const decoded = await decodeToFile(items, imagesFile, {
      ...decode,
      workers: opts.workers,
      log,
      label: "zappos",
    });

    const badCount = decoded.bad.length;
    for (const b of decoded.bad.slice(0, 20)) {
      log(`zappos: unreadable image "${b.name}": ${b.reason} (${b.detail})`);
    }
    if (badCount > opts.maxBadFraction * usedIndices.length) {
      const examples = decoded.bad.slice(0, 5).map((b) => `"${b.name}" (${b.reason})`);
      throw new Error(
        `Cannot load zappos: too many unreadable images: ${badCount} of ${usedIndices.length} used images ` +
          `(${(100 * badCount / usedIndices.length).toFixed(2)} %) failed, more than ` +
          `maxBadFraction ${opts.maxBadFraction}; e.g. ${examples.join(", ")}`,
      );
    }

    // Compact the good images (in the file) and remap triplet indices onto them.
    const bytesPerImage = opts.size * opts.size * 3;
    const badSlots = new Set(decoded.bad.map((b) => b.slot));
    await compactSlots(imagesFile, usedIndices.length, bytesPerImage, badSlots);
    const remap = new Int32Array(filenames.length).fill(-1);
    const names: string[] = [];
    for (let slot = 0; slot < usedIndices.length; slot++) {
      if (badSlots.has(slot)) continue;
      remap[usedIndices[slot]!] = names.length;
      names.push(filenames[usedIndices[slot]!]!);
    }
    const triplets = {} as Record<Split, TripletTable>;
    const dropped = {} as Record<Split, number>;
    for (const split of SPLITS) {
      [triplets[split], dropped[split]] = remapTriplets(chosen[split], remap);
    }
    if (badCount > 0) {
      log(
        `zappos: dropped ${dropped.train}/${dropped.val}/${dropped.test} train/val/test ` +
          `triplets that use the ${badCount} unreadable image(s)`,
      );
    }
    // The category labels the class notion (its triplets are drawn by shoe type).
    const category = categoryLabels(names);
    const hasClass = conditions.includes("class");
    return {
      dataset: "zappos",
      height: opts.size,
      width: opts.size,
      channels: 3,
      decode,
      names,
      pixels: opts.imagesFile === undefined
        ? await Deno.readFile(imagesFile)
        : { file: opts.imagesFile },
      notions: conditions.map((name) => ({
        name,
        values: name === "class" ? category.values : [],
      })),
      labels: hasClass ? { class: category.labels } : {},
      triplets,
      report: {
        archives,
        filenames: filenames.length,
        conditions,
        seed: opts.seed,
        tripletsAvailable: available,
        tripletsSampled: sampled,
        imagesUsed: usedIndices.length,
        imagesDecoded: names.length,
        badImages: decoded.bad.map(({ name, reason }) => ({ name, reason })),
        droppedTriplets: dropped,
        triplets: Object.fromEntries(SPLITS.map((s) => [s, triplets[s].length / 4])),
      },
    };
  } finally {
    await removeTree(temp);
  }
}

/** An empty folder at `path`, clearing what a killed earlier run left there. */
async function freshDir(path: string): Promise<string> {
  await removeTree(path);
  await Deno.mkdir(path, { recursive: true });
  return path;
}

/** Maps the image indices of each quad through `remap`; drops quads touching -1. */
function remapTriplets(table: TripletTable, remap: Int32Array): [TripletTable, number] {
  const out = new Int32Array(table.length);
  let n = 0;
  for (let i = 0; i < table.length; i += 4) {
    const a = remap[table[i]!]!, f = remap[table[i + 1]!]!, c = remap[table[i + 2]!]!;
    if (a < 0 || f < 0 || c < 0) continue;
    out.set([a, f, c, table[i + 3]!], n * 4);
    n++;
  }
  return [out.slice(0, n * 4), table.length / 4 - n];
}
