/**
 * The train stage's params: every knob of the reference, with its defaults (docs/csn.md), plus
 * csn's own (preset, workers, backend). Config flows one way: these defaults, then the
 * pipeline manifest, then the command line.
 */
import { z } from "zod";
import { MODES, PRESETS } from "../model/choices.ts";
import { BACKEND_CHOICES } from "../engine/choices.ts";
import { PRECISIONS } from "../engine/precision.ts";
import { isBudget } from "./budget.ts";
import type { DatasetFacts } from "../artefacts/dataset_facts.ts";

/** A list param that also accepts "a,b,c" (handy with --set and flags). */
const nameList = z.preprocess(
  (value) =>
    typeof value === "string" ? value.split(",").map((s) => s.trim()).filter(Boolean) : value,
  z.array(z.string().min(1)),
);

export const TrainParamsSchema = z.object({
  preset: z.enum(Object.keys(PRESETS) as [keyof typeof PRESETS]).default("small"),
  /** Base channel width (overrides the preset's). */
  width: z.number().int().min(1).optional(),
  embed_dims: z.number().int().min(1).default(64),
  mode: z.enum(MODES).default("csn"),
  /** csn mode: train the masks (initialised N(0.9, 0.7)) instead of fixed disjoint blocks. */
  learned: z.boolean().default(false),
  /** csn mode: learned masks initialised 0.1 with the disjoint block at 1 (implies learned). */
  prein: z.boolean().default(false),
  /** Notion names to train on (default: every notion of the dataset). */
  conditions: nameList.refine((names) => names.length > 0, {
    message: "expected at least one notion name (leave it out to train on every notion)",
  }).optional(),
  epochs: z.number().int().min(1).default(200),
  /** "triplets:N" or "minutes:M": stop there if it comes before the last epoch ("": none). */
  budget: z.string().refine(isBudget, 'expected "triplets:N", "minutes:M" or ""').default(""),
  batch_size: z.number().int().min(1).default(256),
  /** Triplets per forward/backward pass (0: 8 for the paper preset, 32 otherwise). */
  micro_batch: z.number().int().min(0).default(0),
  lr: z.number().positive().default(5e-5),
  /** lr at epoch e (1-based) = lr * (1 - lr_decay)^e, as the reference. */
  lr_decay: z.number().min(0).max(1).default(0.015),
  margin: z.number().min(0).default(0.2),
  embed_loss: z.number().min(0).default(5e-3),
  mask_loss: z.number().min(0).default(5e-4),
  /** A fixed seeded subset of this many training triplets, reshuffled each epoch (0: all). */
  num_train_triplets: z.number().int().min(0).default(100000),
  seed: z.number().int().min(0).default(1),
  /** Steps between metrics lines. */
  log_interval: z.number().int().min(1).default(20),
  /** Deno workers for data parallelism (0: one replica in the main thread). */
  workers: z.number().int().min(0).max(64).default(2),
  backend: z.enum(BACKEND_CHOICES).default("auto"),
  /** bf16: mixed precision on the native backend where oneDNN computes bf16 (refused else). */
  precision: z.enum(PRECISIONS).default("fp32"),
  /** One forward pass for anchor, far and close together (default: three, as the reference). */
  batched: z.boolean().default(false),
  /** Random horizontal flips: auto = on where the dataset's facts say photos (zappos). */
  flip: z.enum(["auto", "on", "off"]).default("auto"),
  /** torchvision ResNet-18 state_dict (.pth) to start from: a path or an http(s) URL. */
  pretrained: z.string().default(""),
  /** Continue from the last epoch checkpoint of an interrupted run with the same key. */
  resume: z.boolean().default(true),
  /** Where downloaded pretrained weights are cached. */
  download_dir: z.string().default("data/downloads"),
});

export type TrainParams = z.output<typeof TrainParamsSchema>;

/** Params that cannot change the trained weights. */
export const VOLATILE_TRAIN_PARAMS = ["log_interval", "resume", "download_dir"] as const;

export function microBatchOf(params: TrainParams): number {
  if (params.micro_batch > 0) return params.micro_batch;
  return params.preset === "paper" ? 8 : 32;
}

export function maskKindOf(params: TrainParams): "fixed" | "learned" | "prein" {
  if (params.prein) return "prein";
  return params.learned ? "learned" : "fixed";
}

/**
 * Whether to flip training images: `auto` follows the shard index's facts.photos (photos yes,
 * glyphs and drawings no). Shards written before indexes held facts cannot answer `auto`.
 */
export function flipOf(
  flip: TrainParams["flip"],
  shards: { readonly dir: string; readonly index: { readonly facts?: DatasetFacts } },
): boolean {
  if (flip !== "auto") return flip === "on";
  const facts = shards.index.facts;
  if (facts === undefined) {
    throw new TypeError(
      `Cannot resolve train.flip "auto": shard index "${shards.dir}/index.json" records no ` +
        `facts.photos (written before shard indexes held dataset facts); rerun preprocess ` +
        `and shard, or set train.flip to "on" or "off"`,
    );
  }
  return facts.photos;
}

/** Chosen notion names -> their ids in the dataset, in the dataset's order. */
export function conditionIds(
  notions: readonly { name: string }[],
  chosen: readonly string[] | undefined,
): { ids: number[]; names: string[] } {
  const all = notions.map((n) => n.name);
  if (!chosen) return { ids: all.map((_, i) => i), names: all };
  for (const name of chosen) {
    if (!all.includes(name)) {
      throw new TypeError(
        `Cannot resolve train.conditions: the dataset has no notion "${name}" (it has: ${
          all.join(", ")
        })`,
      );
    }
  }
  const ids = all.flatMap((name, i) => chosen.includes(name) ? [i] : []);
  return { ids, names: ids.map((i) => all[i]!) };
}
