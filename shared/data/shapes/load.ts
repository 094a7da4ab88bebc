/**
 * Builds the shapes DecodedDataset from a fetched shapes.json: paint every description at
 * the asked size, label shape and colour, split each class by draw order (of every 8: 6
 * train, 1 val, 1 test) and sample triplets from the labels.
 */
import type { CommonPreprocessParams } from "../adapter.ts";
import type { DecodedDataset, Split } from "../dataset.ts";
import { sampleTriplets } from "../label_triplets.ts";
import { drawShape } from "./draw.ts";
import { readShapesFile } from "./files.ts";
import { COLOURS, SHAPE_NOTIONS, SHAPES } from "./spec.ts";

const NOTIONS = SHAPE_NOTIONS;

function splitOfRank(rank: number): Split {
  const r = rank % 8;
  return r === 6 ? "val" : r === 7 ? "test" : "train";
}

export async function loadShapes(
  rawDir: string,
  p: CommonPreprocessParams,
  log: (message: string) => void,
): Promise<DecodedDataset> {
  const items = await readShapesFile(rawDir);
  const size = p.size;
  const count = items.length;
  const pixels = new Uint8Array(count * size * size * 3);
  const labels = { shape: new Int32Array(count), colour: new Int32Array(count) };
  const names: string[] = [];
  const splitOf: Split[] = [];
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    pixels.set(drawShape(item, size), i * size * size * 3);
    labels.shape[i] = SHAPES.indexOf(item.shape);
    labels.colour[i] = COLOURS.indexOf(item.colour);
    const key = `${item.shape}/${item.colour}`;
    const rank = seen.get(key) ?? 0;
    seen.set(key, rank + 1);
    names.push(`${key}/${rank}`);
    splitOf.push(splitOfRank(rank));
  });
  const sampled = sampleTriplets({
    notions: NOTIONS,
    labels,
    splitOf,
    counts: { train: p.num_train, val: p.num_val, test: p.num_test },
    seed: p.seed,
  });
  log(`shapes: painted ${count} images at ${size}x${size}`);
  return {
    dataset: "shapes",
    height: size,
    width: size,
    channels: 3,
    names,
    pixels,
    notions: [{ name: "shape", values: SHAPES }, { name: "colour", values: COLOURS }],
    labels,
    triplets: sampled.triplets,
    report: {
      images: count,
      splits: Object.fromEntries(
        (["train", "val", "test"] as const).map((s) => [s, splitOf.filter((x) => x === s).length]),
      ),
      triplets: sampled.report,
    },
  };
}
