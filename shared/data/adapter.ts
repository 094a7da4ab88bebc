/**
 * A dataset as an adapter: what the fetch and preprocess stages need to know about one
 * dataset, so the stages hold no per-dataset branches. Two halves:
 * - DatasetSpec: name, facts and param schemas. Small (zod only), imported statically, so
 *   params are validated when a pipeline is planned, before anything runs.
 * - Dataset: the spec plus `fetch` and `load`, which pull in the heavy code (font rendering,
 *   JPEG decoding); the registry imports it lazily, by name.
 */
import type { z } from "zod";
import type { LoadedDataset } from "./dataset.ts";
import type { DatasetFacts } from "../artefacts/dataset_facts.ts";

// deno-lint-ignore no-explicit-any
export type ParamsSchema = z.ZodObject<any>;

export interface DatasetSpec<
  F extends ParamsSchema = ParamsSchema,
  P extends ParamsSchema = ParamsSchema,
> {
  /** The value of `fetch.dataset`, and of `dataset` in fetch.json and every later artefact. */
  readonly name: string;
  readonly description: string;
  readonly facts: DatasetFacts;
  /** The fetch params this dataset reads besides `dataset`, with their defaults. */
  readonly fetchParams: F;
  /** The preprocess params this dataset reads besides the common ones, with defaults. */
  readonly preprocessParams: P;
  /**
   * The notion names the decoded dataset will have with these preprocess params, for checks
   * made when a pipeline is planned (train.conditions); absent when only the data can tell
   * (a user's own label files).
   */
  readonly notions?: (preprocess: Readonly<Record<string, unknown>>) => readonly string[];
  /** Params that cannot change the outputs (cache folders, retries, worker counts). */
  readonly volatileParams?: {
    readonly fetch?: readonly string[];
    readonly preprocess?: readonly string[];
  };
}

export interface FetchContext {
  /** The raw artefact's folder: fetch writes the files and a sources.json (provenance). */
  readonly outDir: string;
  readonly log: (message: string) => void;
  /** The user forced the stage: caches kept outside the store are not to be reused. */
  readonly forced: boolean;
}

/** The preprocess params every dataset reads (see stages/preprocess.ts). */
export interface CommonPreprocessParams {
  readonly size: number;
  readonly num_train: number;
  readonly num_val: number;
  readonly num_test: number;
  readonly seed: number;
}

export interface LoadContext {
  readonly log: (message: string) => void;
  /** A folder for temporary files that survives a crash (the stage's work folder). */
  readonly scratchDir: string;
  /**
   * The artefact's pixel file: a loader may stream its pixels there (shared/data/decode's
   * decodeToFile) and return `pixels: { file: imagesFile }`, so no dataset need fit in memory.
   */
  readonly imagesFile?: string;
}

export interface Dataset<
  F extends ParamsSchema = ParamsSchema,
  P extends ParamsSchema = ParamsSchema,
> extends DatasetSpec<F, P> {
  /** Obtains the raw files into ctx.outDir; returns metrics (small, JSON-able). */
  fetch(params: z.output<F>, ctx: FetchContext): Promise<Record<string, unknown>>;
  /** Checks made when the pipeline is planned (e.g. the named font families are installed). */
  checkFetchParams?(params: z.output<F>): Promise<void>;
  /** Facts outside the params that change what fetch obtains (e.g. mirror file hashes). */
  fetchRuntimeFacts?(params: z.output<F>): Promise<Record<string, unknown>>;
  /** The raw artefact -> the decoded dataset (facts are stamped by the preprocess stage). */
  load(
    rawDir: string,
    params: CommonPreprocessParams & z.output<P>,
    ctx: LoadContext,
  ): Promise<LoadedDataset>;
}

/** Identity helpers that infer the param types for `fetch` and `load`. */
export function defineSpec<F extends ParamsSchema, P extends ParamsSchema>(
  spec: DatasetSpec<F, P>,
): DatasetSpec<F, P> {
  return spec;
}

export function defineDataset<F extends ParamsSchema, P extends ParamsSchema>(
  dataset: Dataset<F, P>,
): Dataset<F, P> {
  return dataset;
}
