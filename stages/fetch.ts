/**
 * fetch: obtains a dataset's raw files as published. Output `raw`: the files, their
 * sources.json (provenance, sha256) and fetch.json ({format, dataset}), which tells
 * preprocess which dataset it holds. Each dataset is an adapter (shared/data/registry.ts):
 * `dataset` picks it, and only that dataset's own params may be given besides.
 */
import { z } from "zod";
import {
  checkOwnParams,
  datasetParamShape,
  foreignParamMessage,
  foreignParams,
  ownParams,
  volatileParamsOf,
} from "../shared/data/dataset_params.ts";
import { writeRawMeta } from "../shared/artefacts/raw_record.ts";
import {
  DATASET_NAMES,
  DATASET_SPECS,
  datasetSpec,
  findDatasetSpec,
  openDataset,
} from "../shared/data/registry.ts";
import { defineStage } from "../shared/stage/contract.ts";

const COMMON = ["dataset"] as const;

const Params = z.object({
  dataset: z.enum(DATASET_NAMES).default("fonts"),
  ...datasetParamShape(DATASET_SPECS, "fetch", COMMON),
})
  .superRefine((p, ctx) => {
    const spec = findDatasetSpec(p.dataset);
    if (spec === undefined) return; // the enum has reported it
    for (const key of foreignParams(spec, "fetch", COMMON, p)) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: foreignParamMessage(spec, "fetch", COMMON, key),
      });
    }
    // A name two datasets share was checked loosely: check it against this dataset's own.
    const own = checkOwnParams(spec, "fetch", p);
    if (typeof own === "string") ctx.addIssue({ code: "custom", message: own });
  })
  // The chosen dataset's defaults become part of the resolved params (and so of the key).
  .overwrite((p) => {
    const spec = findDatasetSpec(p.dataset);
    const own = spec === undefined ? p : checkOwnParams(spec, "fetch", p);
    return typeof own === "string" ? p : { ...p, ...own }; // refine has reported a string
  });
type Params = z.output<typeof Params>;

/**
 * The params the dataset's adapter reads (its own; `dataset` chose it). The schema has already
 * refused another dataset's params, so this only picks.
 */
function adapterParams(p: Params): Record<string, unknown> {
  return ownParams(datasetSpec(p.dataset, "fetch"), "fetch", p);
}

export default defineStage({
  name: "fetch",
  description: "Obtain a dataset's raw files (fonts from npm packages, UT Zappos50K + CSN " +
    "triplets, generated shapes, or your own images) with their provenance",
  params: Params,
  inputs: [],
  outputs: ["raw"],
  volatileParams: volatileParamsOf(DATASET_SPECS, "fetch"),
  planCheck: async (p) => {
    const dataset = await openDataset(p.dataset, "fetch");
    await dataset.checkFetchParams?.(adapterParams(p));
  },
  runtimeFacts: async (p) => {
    const dataset = await openDataset(p.dataset, "fetch");
    return (await dataset.fetchRuntimeFacts?.(adapterParams(p))) ?? {};
  },
  async run(ctx) {
    const p = ctx.params;
    const out = ctx.outputs.raw;
    const dataset = await openDataset(p.dataset, "fetch");
    const metrics = await dataset.fetch(adapterParams(p), {
      outDir: out,
      log: ctx.log,
      forced: ctx.forced ?? false,
    });
    await writeRawMeta(out, dataset.name);
    return { metrics: { dataset: dataset.name, ...metrics }, publish: { raw: ["sources.json"] } };
  },
});
