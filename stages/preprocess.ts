/**
 * preprocess: raw files -> the decoded dataset (uint8 images of one size, labels, triplets
 * per split, report.json, the dataset's facts), in the format of shared/data/decoded_io.ts.
 * The dataset comes from raw's fetch.json, so this stage needs no dataset param; the params
 * only one dataset reads (zappos' conditions...) are checked against it when the stage runs.
 */
import { join } from "node:path";
import { z } from "zod";
import {
  assertOwnParams,
  datasetParamShape,
  ownParams,
  volatileParamsOf,
} from "../shared/data/dataset_params.ts";
import { writeDecoded } from "../shared/data/decoded_io.ts";
import { readRawMeta } from "../shared/artefacts/raw_record.ts";
import { DATASET_NAMES, DATASET_SPECS, openDataset } from "../shared/data/registry.ts";
import { defineStage } from "../shared/stage/contract.ts";

const Common = {
  /** Image side in pixels: 64 for fonts; the zappos pipeline sets 112. */
  size: z.number().int().min(8).max(1024).default(64),
  num_train: z.number().int().min(0).default(40000),
  num_val: z.number().int().min(0).default(8000),
  num_test: z.number().int().min(0).default(8000),
  seed: z.number().int().default(1),
};
const COMMON = Object.keys(Common);

const Params = z.object({
  ...Common,
  ...datasetParamShape(DATASET_SPECS, "preprocess", COMMON),
});

/** Report counts worth showing in metrics: numbers, list lengths, and maps of numbers. */
export function reportCounts(report: Record<string, unknown>): Record<string, unknown> {
  const counts: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(report)) {
    if (typeof value === "number") counts[key] = value;
    else if (Array.isArray(value)) counts[key] = value.length;
    else if (
      typeof value === "object" && value !== null &&
      Object.values(value).every((v) => typeof v === "number")
    ) counts[key] = value;
  }
  return counts;
}

export default defineStage({
  name: "preprocess",
  description: "Decode raw files into same-size uint8 images, labels and sampled triplets",
  params: Params,
  inputs: ["raw"],
  outputs: ["decoded"],
  volatileParams: volatileParamsOf(DATASET_SPECS, "preprocess"),
  async run(ctx) {
    const p = ctx.params;
    const raw = ctx.inputs.raw.dir;
    const dataset = await openDataset(await readRawMeta(raw, DATASET_NAMES), "preprocess");
    assertOwnParams(dataset, "preprocess", COMMON, p);
    const own = ownParams(dataset, "preprocess", p);
    const loaded = await dataset.load(
      raw,
      {
        size: p.size,
        num_train: p.num_train,
        num_val: p.num_val,
        num_test: p.num_test,
        seed: p.seed,
        ...own,
      },
      {
        log: ctx.log,
        scratchDir: ctx.workDir,
        // Loaders that stream write the pixels straight into the artefact.
        imagesFile: join(ctx.outputs.decoded!, "images.u8"),
      },
    );
    if (loaded.dataset !== dataset.name) {
      throw new TypeError(
        `Cannot preprocess dataset ${dataset.name}: its adapter's load returned dataset ` +
          `"${loaded.dataset}"`,
      );
    }
    const { decode, ...decoded } = loaded;
    const ds = { ...decoded, facts: decode ? { ...dataset.facts, decode } : dataset.facts };
    await writeDecoded(ds, ctx.outputs.decoded);
    const metrics = {
      dataset: ds.dataset,
      facts: ds.facts,
      // The dataset's own params as used, defaults included (the stage's params hold only
      // those given: which dataset reads them is known from raw, after planning).
      dataset_params: own,
      images: ds.names.length,
      shape: [ds.height, ds.width, ds.channels],
      notions: ds.notions.map((n) => n.name),
      triplets: {
        train: ds.triplets.train.length / 4,
        val: ds.triplets.val.length / 4,
        test: ds.triplets.test.length / 4,
      },
      report: reportCounts(ds.report),
    };
    ctx.log(
      `${metrics.images} images ${ds.height}x${ds.width}x${ds.channels}, triplets ` +
        `${metrics.triplets.train}/${metrics.triplets.val}/${metrics.triplets.test}`,
    );
    return { metrics, publish: { decoded: ["report.json"] } };
  },
});
