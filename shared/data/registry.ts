/**
 * The datasets csn knows, by name. Specs (name, facts, params) are imported here statically:
 * they are small and the stages validate params with them before anything runs. Adapters
 * (fetch, load) are imported on first use, so a stage run loads only its own dataset's code.
 * The imports are literal so that the pipeline's code hash, which follows literal dynamic
 * imports, counts every dataset's files in the fetch and preprocess keys.
 * A new dataset: a folder with spec.ts and adapter.ts, a line in ./specs.ts and one below.
 */
import type { Dataset, DatasetSpec } from "./adapter.ts";
import { DATASET_SPECS, findDatasetSpec } from "./specs.ts";

export { DATASET_SPECS, findDatasetSpec };

const ADAPTERS: Readonly<Record<string, () => Promise<{ default: Dataset }>>> = {
  fonts: () => import("./fonts/adapter.ts") as Promise<{ default: Dataset }>,
  zappos: () => import("./zappos/adapter.ts") as Promise<{ default: Dataset }>,
  shapes: () => import("./shapes/adapter.ts") as Promise<{ default: Dataset }>,
  images: () => import("./images/adapter.ts") as Promise<{ default: Dataset }>,
};

export const DATASET_NAMES = DATASET_SPECS.map((s) => s.name) as [string, ...string[]];

/** The spec of dataset `name`; `action` says what needed it, for the error. */
export function datasetSpec(name: string, action: string): DatasetSpec {
  const spec = findDatasetSpec(name);
  if (spec === undefined) {
    throw new RangeError(
      `Cannot ${action}: unknown dataset "${name}"; expected one of ${DATASET_NAMES.join(", ")}`,
    );
  }
  return spec;
}

/** The adapter of dataset `name`, loaded on first use. */
export async function openDataset(name: string, action: string): Promise<Dataset> {
  const spec = datasetSpec(name, action);
  const load = ADAPTERS[name];
  if (load === undefined) {
    throw new RangeError(`Cannot ${action}: dataset "${name}" has a spec but no adapter`);
  }
  const adapter = (await load()).default;
  if (adapter.name !== spec.name || adapter.fetchParams !== spec.fetchParams) {
    throw new TypeError(
      `Cannot ${action}: the adapter registered as "${name}" is not built on its spec ` +
        `(it names itself "${adapter.name}")`,
    );
  }
  return adapter;
}
