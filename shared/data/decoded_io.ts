/**
 * The preprocess artefact on disk. A directory holding:
 *   dataset.json          dataset, facts (optional), height, width, channels, count, names,
 *                         notions, which notions have labels, triplet counts per split
 *   images.u8             count * height * width * channels raw pixels (uint8, HWC)
 *   labels/<notion>.i32   a little-endian int32 label per image (-1 = unknown)
 *   triplets/<split>.i32  little-endian int32 quads: anchor, far, close, condition
 *   report.json           what was skipped or dropped, for people
 * Readers validate everything and name the file and field that is wrong; the two JSON files
 * have their schemas in artefacts/decoded_record.ts.
 */
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type DecodedDataset, type LoadedDataset, type Split, SPLITS } from "./dataset.ts";
import {
  type DatasetJson,
  datasetRecord,
  DECODED_FORMAT,
  reportRecord,
} from "../artefacts/decoded_record.ts";
import { readInt32File, writeInt32File } from "./shards/int32_file.ts";
import { checkLabels, checkNotionName, checkTriplets } from "./shards/validate.ts";

/** Everything but the pixels; `imagesFile` is where they are (for streaming readers). */
export interface DecodedMeta extends Omit<DecodedDataset, "pixels"> {
  readonly count: number;
  readonly imagesFile: string;
}

/** Checks a dataset's internal consistency; `where` names it in errors. */
export function checkDecoded(ds: DecodedDataset, where: string): void {
  checkPixelBytes(ds, ds.pixels.length, "pixels", where);
  checkMetaParts(ds, ds.names.length, where);
}

function checkPixelBytes(
  ds: Omit<DecodedDataset, "pixels">,
  bytes: number,
  what: string,
  where: string,
): void {
  const count = ds.names.length;
  const perImage = ds.height * ds.width * ds.channels;
  if (bytes !== count * perImage) {
    throw new RangeError(
      `Cannot use decoded dataset ${where}: ${what} has ${bytes} bytes, expected ` +
        `${count} names * ${ds.height}x${ds.width}x${ds.channels} = ${count * perImage}`,
    );
  }
}

function checkMetaParts(
  ds: Omit<DecodedDataset, "pixels">,
  count: number,
  where: string,
): void {
  const notionNames = new Set<string>();
  for (const n of ds.notions) {
    checkNotionName(n.name, where);
    if (notionNames.has(n.name)) {
      throw new SyntaxError(
        `Cannot use decoded dataset ${where}: notion "${n.name}" appears twice`,
      );
    }
    notionNames.add(n.name);
  }
  for (const [name, labels] of Object.entries(ds.labels)) {
    const notion = ds.notions.find((n) => n.name === name);
    if (notion === undefined) {
      throw new RangeError(
        `Cannot use decoded dataset ${where}: labels for "${name}", which is not a notion ` +
          `(notions: ${[...notionNames].join(", ")})`,
      );
    }
    const file = `${where}/labels/${name}.i32`;
    if (labels.length !== count) {
      throw new RangeError(
        `Cannot use labels file "${file}": it holds ${labels.length} labels, expected ${count}`,
      );
    }
    checkLabels(labels, notion.values.length, file);
  }
  for (const split of SPLITS) {
    checkTriplets(ds.triplets[split], count, ds.notions.length, `${where}/triplets/${split}.i32`);
  }
}

/**
 * Writes `ds` into `dir` (created if missing) in the format above. Pixels a loader streamed
 * to a file are moved into place (or left there when it is already dir/images.u8).
 */
export async function writeDecoded(ds: LoadedDataset, dir: string): Promise<void> {
  const imagesFile = join(dir, "images.u8");
  const pixels = ds.pixels;
  if (pixels instanceof Uint8Array) checkDecoded({ ...ds, pixels }, `"${dir}"`);
  else {
    checkPixelBytes(ds, (await stat(pixels.file)).size, `"${pixels.file}"`, `"${dir}"`);
    checkMetaParts(ds, ds.names.length, `"${dir}"`);
  }
  await mkdir(join(dir, "labels"), { recursive: true });
  await mkdir(join(dir, "triplets"), { recursive: true });
  const meta: DatasetJson = {
    format: DECODED_FORMAT,
    dataset: ds.dataset,
    ...(ds.facts === undefined ? {} : { facts: ds.facts }),
    height: ds.height,
    width: ds.width,
    channels: ds.channels,
    count: ds.names.length,
    names: [...ds.names],
    notions: ds.notions.map((n) => ({ name: n.name, values: [...n.values] })),
    labels: Object.keys(ds.labels).sort(),
    triplets: {
      train: ds.triplets.train.length / 4,
      val: ds.triplets.val.length / 4,
      test: ds.triplets.test.length / 4,
    },
  };
  if (pixels instanceof Uint8Array) await writeFile(imagesFile, pixels);
  else if (pixels.file !== imagesFile) await moveFile(pixels.file, imagesFile);
  for (const name of meta.labels) {
    await writeInt32File(join(dir, "labels", `${name}.i32`), ds.labels[name]!);
  }
  for (const split of SPLITS) {
    await writeInt32File(join(dir, "triplets", `${split}.i32`), ds.triplets[split]);
  }
  await reportRecord.write(dir, ds.report);
  // dataset.json last: a directory without it is visibly incomplete.
  await datasetRecord.write(dir, meta);
}

/** Renames `from` to `to`, or copies and removes it across filesystems. */
async function moveFile(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as { code?: string }).code !== "EXDEV") throw error;
    await copyFile(from, to);
    await rm(from);
  }
}

/** Reads and validates everything except the pixels (whose file size is checked). */
export async function readDecodedMeta(dir: string): Promise<DecodedMeta> {
  const metaPath = join(dir, datasetRecord.file);
  const m = await datasetRecord.read(dir);
  if (m.names.length !== m.count) {
    throw new RangeError(
      `Cannot read "${metaPath}": field names has ${m.names.length} entries, expected count = ${m.count}`,
    );
  }
  const imagesFile = join(dir, "images.u8");
  const expectedBytes = m.count * m.height * m.width * m.channels;
  const size = (await stat(imagesFile)).size;
  if (size !== expectedBytes) {
    throw new RangeError(
      `Cannot read images file "${imagesFile}": it has ${size} bytes, expected count * height * width * ` +
        `channels = ${m.count} * ${m.height} * ${m.width} * ${m.channels} = ${expectedBytes}`,
    );
  }
  const labels: Record<string, Int32Array> = {};
  for (const name of m.labels) {
    checkNotionName(name, metaPath);
    labels[name] = await readInt32File(join(dir, "labels", `${name}.i32`), m.count);
  }
  const triplets = {} as Record<Split, Int32Array>;
  for (const split of SPLITS) {
    triplets[split] = await readInt32File(
      join(dir, "triplets", `${split}.i32`),
      m.triplets[split] * 4,
    );
  }
  const report = await reportRecord.read(dir);
  const meta: DecodedMeta = {
    dataset: m.dataset,
    ...(m.facts === undefined ? {} : { facts: m.facts }),
    height: m.height,
    width: m.width,
    channels: m.channels,
    count: m.count,
    names: m.names,
    notions: m.notions,
    labels,
    triplets,
    report,
    imagesFile,
  };
  checkMetaParts(meta, m.count, `"${dir}"`);
  return meta;
}

/** Reads and validates a whole decoded artefact, pixels included. */
export async function readDecoded(dir: string): Promise<DecodedDataset> {
  const { imagesFile, count: _count, ...meta } = await readDecodedMeta(dir);
  const buf = await readFile(imagesFile);
  // A view, not a copy: the file can be gigabytes.
  const pixels = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return { ...meta, pixels };
}
