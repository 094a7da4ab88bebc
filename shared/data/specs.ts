/**
 * The specs (name, facts, params, notions) of the datasets csn knows, without their adapters:
 * what a stage that only checks params needs (train checks train.conditions against a
 * dataset's notions when the pipeline is planned) without counting every dataset's code in its
 * key. The registry (./registry.ts) adds the adapters. A new dataset: one line here and one
 * in the registry.
 */
import type { DatasetSpec } from "./adapter.ts";
import { fontsSpec } from "./fonts/spec.ts";
import { imagesSpec } from "./images/spec.ts";
import { shapesSpec } from "./shapes/spec.ts";
import { zapposSpec } from "./zappos/spec.ts";

export const DATASET_SPECS: readonly DatasetSpec[] = [
  fontsSpec,
  zapposSpec,
  shapesSpec,
  imagesSpec,
];

/** The spec of dataset `name`, or undefined when no dataset has that name. */
export function findDatasetSpec(name: string): DatasetSpec | undefined {
  return DATASET_SPECS.find((s) => s.name === name);
}
