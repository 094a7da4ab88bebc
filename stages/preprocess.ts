/**
 * preprocess: raw files -> the decoded dataset (uint8 images of one size, labels, triplets
 * per split, report.json), in the format of shared/data/decoded_io.ts. The dataset kind
 * comes from raw's fetch.json, so this stage needs no dataset param.
 */
import { z } from "zod";
import type { DecodedDataset } from "../shared/data/dataset.ts";
import { writeDecoded } from "../shared/data/decoded_io.ts";
import { readRawMeta } from "../shared/data/raw_meta.ts";
import { ZAPPOS_CONDITIONS } from "../shared/data/zappos/layout.ts";
import { defineStage } from "../shared/stage/contract.ts";

const Params = z.object({
  /** Image side in pixels: 64 for fonts; the zappos pipeline sets 112. */
  size: z.number().int().min(8).max(1024).default(64),
  num_train: z.number().int().min(0).default(40000),
  num_val: z.number().int().min(0).default(8000),
  num_test: z.number().int().min(0).default(8000),
  /** zappos: the conditions to keep (a list, or comma-separated); ignored for fonts. */
  conditions: z.preprocess(
    (value) => typeof value === "string" ? value.split(",").map((c) => c.trim()) : value,
    z.array(
      z.enum(ZAPPOS_CONDITIONS, {
        error: (issue) =>
          `unknown condition ${JSON.stringify(issue.input)}, expected some of ` +
          ZAPPOS_CONDITIONS.join(", "),
      }),
    ).min(1, `expected at least one of ${ZAPPOS_CONDITIONS.join(", ")}`),
  ).default([...ZAPPOS_CONDITIONS]),
  seed: z.number().int().default(1),
  /** zappos: largest share of unreadable images tolerated before failing. */
  max_bad_fraction: z.number().min(0).max(1).default(0.01),
  workers: z.number().int().min(1).max(64).default(2),
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
  // The worker count changes speed, not the decoded bytes.
  volatileParams: ["workers"],
  async run(ctx) {
    const p = ctx.params;
    const raw = ctx.inputs.raw!.dir;
    const kind = await readRawMeta(raw);
    let ds: DecodedDataset;
    if (kind === "fonts") {
      const { loadFonts } = await import(
        new URL("../shared/data/fonts/mod.ts", import.meta.url).href
      ) as typeof import("../shared/data/fonts/mod.ts");
      ds = await loadFonts(
        raw,
        {
          size: p.size,
          numTrain: p.num_train,
          numVal: p.num_val,
          numTest: p.num_test,
          seed: p.seed,
        },
        ctx.log,
      );
    } else {
      const { loadZappos } = await import(
        new URL("../shared/data/zappos/mod.ts", import.meta.url).href
      ) as typeof import("../shared/data/zappos/mod.ts");
      ds = await loadZappos(
        raw,
        {
          size: p.size,
          conditions: p.conditions,
          numTrain: p.num_train,
          numVal: p.num_val,
          numTest: p.num_test,
          seed: p.seed,
          maxBadFraction: p.max_bad_fraction,
          workers: p.workers,
          scratchDir: ctx.workDir,
        },
        ctx.log,
      );
    }
    await writeDecoded(ds, ctx.outputs.decoded!);
    const metrics = {
      dataset: ds.dataset,
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
