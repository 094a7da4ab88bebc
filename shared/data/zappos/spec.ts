/** The zappos dataset's name, facts and params (the adapter's light half; see ../adapter.ts). */
import { z } from "zod";
import { defineSpec } from "../adapter.ts";
import { ZAPPOS_CONDITIONS } from "./layout.ts";

/** The UT Zappos50K page's archive (as linked by the CSN reference's get_data.py). */
export const ZAPPOS_IMAGES_URL =
  "http://vision.cs.utexas.edu/projects/finegrained/utzap50k/ut-zap50k-images.zip";
/** The CSN authors' triplet lists (the link has moved before; override with triplets_url). */
export const CSN_TRIPLETS_URL =
  "https://vision.cornell.edu/se3/wp-content/uploads/2019/05/csn_zappos_triplets.zip";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex sha256 (64 characters)");

export const zapposSpec = defineSpec({
  name: "zappos",
  description: "UT Zappos50K shoe photos with the CSN authors' triplets: class, closure, " +
    "gender, heel",
  facts: { photos: true },
  fetchParams: z.object({
    images_url: z.string().url().default(ZAPPOS_IMAGES_URL),
    /** Unknown for the public archives, so not pinned by default: pin it once you have it. */
    images_sha256: sha256.optional(),
    triplets_url: z.string().url().default(CSN_TRIPLETS_URL),
    triplets_sha256: sha256.optional(),
    /** A folder already holding ut-zap50k-images.zip / csn_zappos_triplets.zip. */
    mirror: z.string().min(1).optional(),
    download_dir: z.string().min(1).default("data/downloads"),
    retries: z.number().int().min(0).max(20).default(3),
  }),
  preprocessParams: z.object({
    /** The conditions to keep (a list, or comma-separated). */
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
    /** Largest share of unreadable images tolerated before failing. */
    max_bad_fraction: z.number().min(0).max(1).default(0.01),
    workers: z.number().int().min(1).max(64).default(2),
  }),
  // The preprocess stage keeps the chosen conditions, in id order.
  notions: (p) =>
    ZAPPOS_CONDITIONS.filter((c) =>
      !Array.isArray(p.conditions) || (p.conditions as unknown[]).includes(c)
    ),
  volatileParams: {
    // Where downloads are cached and how often to retry cannot change the bytes obtained. The
    // mirror's path is no part of the key either: the hashes of its files are (runtime facts).
    fetch: ["download_dir", "retries", "mirror"],
    // The worker count changes speed, not the decoded bytes.
    preprocess: ["workers"],
  },
});
