/**
 * Stage params built from the datasets' specs. A stage's schema holds its common params plus
 * every dataset's own params, optional and without defaults, so values are checked when a
 * pipeline is planned; which dataset may read which param, and that dataset's defaults, are
 * applied by the helpers below once the dataset is known (fetch: its `dataset` param;
 * preprocess: the raw artefact's fetch.json).
 */
import { z } from "zod";
import type { DatasetSpec, ParamsSchema } from "./adapter.ts";

export type DatasetStage = "fetch" | "preprocess";

function schemaOf(spec: DatasetSpec, stage: DatasetStage): ParamsSchema {
  return stage === "fetch" ? spec.fetchParams : spec.preprocessParams;
}

function optional(schema: z.ZodType): z.ZodType {
  const inner = schema instanceof z.ZodDefault ? schema.removeDefault() as z.ZodType : schema;
  return inner instanceof z.ZodOptional ? inner : inner.optional();
}

/**
 * Every dataset's params of `stage`, optional. Two datasets may share a name (conditions,
 * workers): the stage accepts a value either allows, and `ownParams` checks it against the
 * dataset's own schema once the dataset is known. A name the stage declares is an error.
 */
export function datasetParamShape(
  specs: readonly DatasetSpec[],
  stage: DatasetStage,
  common: readonly string[],
): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const spec of specs) {
    for (const [key, schema] of Object.entries(schemaOf(spec, stage).shape)) {
      if (common.includes(key)) {
        throw new TypeError(
          `Cannot build the ${stage} params: param '${key}' of dataset ${spec.name} is ` +
            `declared by the ${stage} stage too`,
        );
      }
      const mine = optional(schema as z.ZodType);
      const taken = shape[key];
      shape[key] = taken === undefined ? mine : z.union([taken, mine]);
    }
  }
  return shape;
}

/** The params `spec` reads in `stage`: the common ones, then its own. */
export function paramsOf(
  spec: DatasetSpec,
  stage: DatasetStage,
  common: readonly string[],
): string[] {
  return [...common, ...Object.keys(schemaOf(spec, stage).shape)];
}

/** Keys given a value that `spec` does not read in `stage`. */
export function foreignParams(
  spec: DatasetSpec,
  stage: DatasetStage,
  common: readonly string[],
  given: Readonly<Record<string, unknown>>,
): string[] {
  const known = new Set(paramsOf(spec, stage, common));
  return Object.entries(given)
    .filter(([key, value]) => value !== undefined && !known.has(key))
    .map(([key]) => key);
}

/** One line with no "; " (the runner splits zod issues there). */
export function foreignParamMessage(
  spec: DatasetSpec,
  stage: DatasetStage,
  common: readonly string[],
  key: string,
): string {
  return `Cannot ${stage} dataset ${spec.name}: param '${key}' is not a ${spec.name} param, ` +
    `expected one of ${paramsOf(spec, stage, common).join(", ")}`;
}

/** Throws a TypeError naming the first param given that `spec` does not read. */
export function assertOwnParams(
  spec: DatasetSpec,
  stage: DatasetStage,
  common: readonly string[],
  given: Readonly<Record<string, unknown>>,
): void {
  const [key] = foreignParams(spec, stage, common, given);
  if (key !== undefined) throw new TypeError(foreignParamMessage(spec, stage, common, key));
}

/**
 * The dataset's own params of `stage`: the values given, over its defaults, checked against
 * the dataset's own schema (a name two datasets share is checked loosely before).
 */
export function ownParams(
  spec: DatasetSpec,
  stage: DatasetStage,
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const checked = checkOwnParams(spec, stage, given);
  if (typeof checked === "string") throw new TypeError(checked);
  return checked;
}

/** The dataset's own params as `ownParams` returns them, or why they are not valid. */
export function checkOwnParams(
  spec: DatasetSpec,
  stage: DatasetStage,
  given: Readonly<Record<string, unknown>>,
): Record<string, unknown> | string {
  const schema = schemaOf(spec, stage);
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    if (given[key] !== undefined) picked[key] = given[key];
  }
  const parsed = schema.safeParse(picked);
  if (parsed.success) return { ...parsed.data };
  const issue = parsed.error.issues[0]!;
  const value = picked[String(issue.path[0])];
  return `Cannot ${stage} dataset ${spec.name}: param '${issue.path.join(".")}'` +
    (value === undefined ? "" : ` = ${JSON.stringify(value)}`) + `: ${issue.message}`;
}

/** The params of `stage` that no dataset lets change its outputs. */
export function volatileParamsOf(specs: readonly DatasetSpec[], stage: DatasetStage): string[] {
  return [...new Set(specs.flatMap((spec) => spec.volatileParams?.[stage] ?? []))];
}
