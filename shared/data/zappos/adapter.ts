/**
 * The zappos dataset as an adapter: its spec plus fetch (both archives, from a mirror folder
 * or the URLs, cached and verified) and load (decode the images the sampled triplets use).
 */
import { resolve } from "node:path";
import { mirrorHashes } from "../../net/mirror_hashes.ts";
import { defineDataset } from "../adapter.ts";
import { fetchZappos } from "./fetch.ts";
import { loadZappos } from "./load.ts";
import { zapposSpec } from "./spec.ts";

export default defineDataset({
  ...zapposSpec,
  fetch: (p, ctx) =>
    fetchZappos(
      {
        imagesUrl: p.images_url,
        imagesSha256: p.images_sha256,
        tripletsUrl: p.triplets_url,
        tripletsSha256: p.triplets_sha256,
        mirrorDir: p.mirror === undefined ? undefined : resolve(p.mirror),
        cacheDir: resolve(p.download_dir),
        retries: p.retries,
        refetch: ctx.forced,
      },
      ctx.outDir,
      ctx.log,
    ),
  // The mirror's path is volatile; what it holds is not.
  fetchRuntimeFacts: async (p) =>
    p.mirror === undefined
      ? {}
      : { mirror_files: await mirrorHashes(resolve(p.mirror), [p.images_url, p.triplets_url]) },
  load: (rawDir, p, ctx) =>
    loadZappos(
      rawDir,
      {
        size: p.size,
        conditions: p.conditions,
        numTrain: p.num_train,
        numVal: p.num_val,
        numTest: p.num_test,
        seed: p.seed,
        maxBadFraction: p.max_bad_fraction,
        workers: p.workers,
        scratchDir: ctx.scratchDir,
        imagesFile: ctx.imagesFile,
      },
      ctx.log,
    ),
});
