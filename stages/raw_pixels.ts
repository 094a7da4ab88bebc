/**
 * raw_pixels: the untrained floor of the paper comparison. Scores the test triplets by the
 * Euclidean distance between normalised pixels, the same for every notion.
 */
import { z } from "zod";
import { defineStage } from "../shared/stage/contract.ts";
import { openShards } from "../shared/data/shards/reader.ts";
import { readNormalised } from "../shared/data/shards/images.ts";
import { normalisationOf } from "../shared/data/shards/normalise.ts";
import { splitImages } from "../shared/eval/split_images.ts";
import { scoreTriplets } from "../shared/eval/triplet_scores.ts";
import {
  type RawPixelsTestRecord,
  TEST_FORMAT,
  testRecord,
} from "../shared/artefacts/test_record.ts";

export default defineStage({
  name: "raw_pixels",
  description: "scores triplets by raw pixel distance (no training): the floor",
  params: z.object({
    split: z.enum(["test", "val", "train"]).default("test"),
    margin: z.number().min(0).default(0.2),
  }),
  inputs: ["shards"],
  outputs: ["results"],
  async run(ctx) {
    const shards = await openShards(ctx.inputs.shards.dir);
    const names = shards.notions.map((n) => n.name);
    const identity = Int32Array.from(names, (_, i) => i);
    const split = splitImages(shards, ctx.params.split, identity);
    const pixels = shards.height * shards.width * shards.channels;
    const { mean, std } = normalisationOf(shards.channels);
    const reader = shards.records();
    let images: Float32Array;
    try {
      images = readNormalised(shards, reader, split.ids, mean, std);
    } finally {
      reader.close();
    }
    const ones = new Float32Array(names.length * pixels).fill(1);
    const score = scoreTriplets(images, pixels, ones, split.triplets, ctx.params.margin);
    const per_condition: Record<string, number> = {};
    names.forEach((name, c) => {
      if (score.counts[c]! > 0) per_condition[name] = score.per_condition[c]!;
    });
    const result: RawPixelsTestRecord = {
      format: TEST_FORMAT,
      mode: "raw-pixels",
      split: ctx.params.split,
      accuracy: score.accuracy,
      per_condition,
      triplets: split.triplets.length / 4,
    };
    await testRecord.write(ctx.outputs.results, result);
    ctx.log(
      `raw pixel distance: ${ctx.params.split} accuracy ${(100 * score.accuracy).toFixed(2)}%`,
    );
    return { metrics: result, publish: { results: [testRecord.file] } };
  },
});
