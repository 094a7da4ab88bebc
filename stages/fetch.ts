/**
 * fetch: obtains a dataset's raw files as published. Output `raw`: the files, their
 * sources.json (provenance, sha256) and fetch.json ({format, dataset}), which tells
 * preprocess which dataset it holds.
 * - fonts: TTFs of the pinned @expo-google-fonts npm packages (optionally some families).
 * - zappos: the UT Zappos50K images zip and the CSN authors' triplet zip, from a mirror
 *   folder or the URLs, cached in download_dir, checked against sha256 when pinned.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { DATASETS, writeRawMeta } from "../shared/data/raw_meta.ts";
import { defineStage } from "../shared/stage/contract.ts";
import { mirrorHashes } from "../shared/net/mirror_hashes.ts";

/** The UT Zappos50K page's archive (as linked by the CSN reference's get_data.py). */
export const ZAPPOS_IMAGES_URL =
  "http://vision.cs.utexas.edu/projects/finegrained/utzap50k/ut-zap50k-images.zip";
/** The CSN authors' triplet lists (the link has moved before; override with triplets_url). */
export const CSN_TRIPLETS_URL =
  "https://vision.cornell.edu/se3/wp-content/uploads/2019/05/csn_zappos_triplets.zip";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256 (64 characters)");

/** A list, or a comma-separated string (handy with `--set fetch.families=roboto,lato`). */
const familyList = z.union([
  z.array(z.string().min(1)).min(1),
  z.string().min(1).transform((s) => s.split(",").map((f) => f.trim()).filter((f) => f !== "")),
]);

const Params = z.object({
  dataset: z.enum(DATASETS).default("fonts"),
  /** fonts: family slugs such as "roboto"; default every installed family. */
  families: familyList.optional(),
  images_url: z.string().url().default(ZAPPOS_IMAGES_URL),
  /** Unknown for the public archives, so not pinned by default: pin it once you have it. */
  images_sha256: sha256.optional(),
  triplets_url: z.string().url().default(CSN_TRIPLETS_URL),
  triplets_sha256: sha256.optional(),
  /** A folder already holding ut-zap50k-images.zip / csn_zappos_triplets.zip. */
  mirror: z.string().min(1).optional(),
  download_dir: z.string().min(1).default("data/downloads"),
  retries: z.number().int().min(0).max(20).default(3),
});

export default defineStage({
  name: "fetch",
  description: "Obtain a dataset's raw files (fonts from npm packages, or UT Zappos50K + CSN " +
    "triplets) with their provenance",
  params: Params,
  inputs: [],
  outputs: ["raw"],
  // Where downloads are cached and how often to retry cannot change the bytes obtained. The
  // mirror's path is no part of the key either: the hashes of its files are (runtimeFacts).
  volatileParams: ["download_dir", "retries", "mirror"],
  runtimeFacts: async (p) =>
    p.dataset === "zappos" && p.mirror !== undefined
      ? { mirror_files: await mirrorHashes(resolve(p.mirror), [p.images_url, p.triplets_url]) }
      : {},
  async run(ctx) {
    const p = ctx.params;
    const out = ctx.outputs.raw!;
    let metrics: Record<string, unknown>;
    if (p.dataset === "fonts") {
      const { fetchFonts } = await import(
        new URL("../shared/data/fonts/mod.ts", import.meta.url).href
      ) as typeof import("../shared/data/fonts/mod.ts");
      const r = await fetchFonts(
        p.families === undefined ? {} : { families: p.families },
        out,
        ctx.log,
      );
      metrics = { dataset: "fonts", families: r.families, files: r.files };
    } else {
      if (p.families !== undefined) ctx.log("families is a fonts param; ignored for zappos");
      const { fetchZappos } = await import(
        new URL("../shared/data/zappos/mod.ts", import.meta.url).href
      ) as typeof import("../shared/data/zappos/mod.ts");
      const r = await fetchZappos(
        {
          imagesUrl: p.images_url,
          imagesSha256: p.images_sha256,
          tripletsUrl: p.triplets_url,
          tripletsSha256: p.triplets_sha256,
          mirrorDir: p.mirror === undefined ? undefined : resolve(p.mirror),
          cacheDir: resolve(p.download_dir),
          retries: p.retries,
          refetch: ctx.forced ?? false,
        },
        out,
        ctx.log,
      );
      metrics = { dataset: "zappos", ...r };
    }
    await writeRawMeta(out, p.dataset);
    return { metrics, publish: { raw: ["sources.json"] } };
  },
});
