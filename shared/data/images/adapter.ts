/**
 * The images dataset as an adapter: fetch checks the label file against the folder (or the
 * unpacked archive) and copies both into the raw artefact; load decodes and samples. A local
 * folder's path is no part of the fetch key: a listing of what it holds is (runtime facts).
 */
import { resolve } from "node:path";
import { mirrorHashes } from "../../net/mirror_hashes.ts";
import { defineDataset } from "../adapter.ts";
import { fetchImages } from "./fetch.ts";
import { contentFacts } from "./content_facts.ts";
import { loadImages } from "./load.ts";
import { imagesSpec } from "./spec.ts";

export default defineDataset({
  ...imagesSpec,
  fetch: (p, ctx) =>
    fetchImages(
      {
        dir: p.dir,
        url: p.url,
        sha256: p.sha256,
        mirror: p.mirror,
        labels: p.labels,
        pathColumn: p.path_column,
        triplets: p.triplets,
        cacheDir: resolve(p.download_dir),
        retries: p.retries,
        refetch: ctx.forced,
      },
      ctx.outDir,
      ctx.log,
    ),
  fetchRuntimeFacts: async (p) => ({
    ...await contentFacts(p.dir, p.labels, p.triplets),
    ...(p.mirror !== undefined && p.url !== undefined
      ? { mirror_files: await mirrorHashes(resolve(p.mirror), [p.url]) }
      : {}),
  }),
  load: (rawDir, p, ctx) => loadImages(rawDir, p, ctx),
});
