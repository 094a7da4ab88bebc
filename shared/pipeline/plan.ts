/**
 * Planning: the manifest's stage instances (seeds expanded) with their definitions and params
 * resolved from the defaults, the manifest and the command line; nothing runs or is hashed.
 */
import type { StageDefinition } from "../stage/contract.ts";
import { closest } from "../util/closest.ts";
import { UsageError } from "../util/usage_error.ts";
import type { Manifest, StageEntry } from "./manifest.ts";
import { COMMAND_LINE, type ParamValues, resolveParams } from "./params.ts";
import type { Project } from "./project.ts";
import { baseName, expandSeeds } from "./expand.ts";
import { loadStage } from "./stage_loader.ts";

/** A stage instance of the manifest with its definition and resolved params. */
export interface PlannedStage {
  readonly entry: StageEntry;
  readonly definition: StageDefinition;
  readonly params: ParamValues;
}

export interface Plan {
  /** The manifest after per-seed expansion. */
  readonly manifest: Manifest;
  readonly stages: PlannedStage[];
}

export async function planStages(
  project: Project,
  source: Manifest,
  overrides: Readonly<Record<string, ParamValues>> = {},
): Promise<Plan> {
  const definitions = new Map<string, StageDefinition>();
  for (const entry of source.stages) {
    const uses = entry.uses ?? entry.name;
    if (!definitions.has(uses)) definitions.set(uses, await loadStage(project.root, uses));
  }
  const definitionOf = (entry: StageEntry) => definitions.get(entry.uses ?? entry.name)!;
  const manifest = source.seeds_from
    ? expandSeeds(
      source,
      seedCount(source, definitionOf, overrides),
      (entry) => "seed" in definitionOf(entry).params.shape,
    )
    : source;
  const names = [...new Set([...source.stages, ...manifest.stages].map((stage) => stage.name))];
  for (const name of Object.keys(overrides)) {
    if (!names.includes(name)) {
      throw unknownStage(`set params of stage "${name}"`, name, manifest, names);
    }
  }
  const planned: PlannedStage[] = [];
  for (const entry of manifest.stages) {
    const definition = definitionOf(entry);
    for (const input of definition.inputs) {
      if (!(input in entry.inputs)) {
        throw new TypeError(
          `Cannot plan pipeline "${manifest.name}": stage "${entry.name}" needs input ` +
            `"${input}" (stages.${entry.name}.inputs.${input} = "<stage>.<output>")`,
        );
      }
    }
    for (const input of Object.keys(entry.inputs)) {
      if (!definition.inputs.includes(input) && !definition.variadicInputs) {
        throw new TypeError(
          `Cannot plan pipeline "${manifest.name}": stage "${entry.name}" has no input ` +
            `"${input}" (it takes: ${definition.inputs.join(", ") || "none"})`,
        );
      }
    }
    const base = baseName(entry.name, source);
    const linked = Object.fromEntries(
      Object.entries(entry.params_from).map((
        [param, ref],
      ) => [param, resolvedParam(source, ref, definitionOf, overrides)]),
    );
    const params = resolveParams(definition, entry.name, [
      { source: `pipelines/${manifest.name}.json`, values: entry.params },
      { source: `pipelines/${manifest.name}.json params_from`, values: linked },
      { source: COMMAND_LINE, values: overrides[base] ?? {} },
      { source: COMMAND_LINE, values: base === entry.name ? {} : overrides[entry.name] ?? {} },
    ]);
    planned.push({ entry, definition, params });
  }
  return { manifest, stages: planned };
}

/** The number of seeds: the resolved value of the manifest's `seeds_from` param. */
function seedCount(
  manifest: Manifest,
  definitionOf: (entry: StageEntry) => StageDefinition,
  overrides: Readonly<Record<string, ParamValues>>,
): number {
  return resolvedParam(manifest, manifest.seeds_from!, definitionOf, overrides) as number;
}

/** A "<stage>.<param>" of a stage run once, as resolved (its defaults, manifest, --set). */
function resolvedParam(
  manifest: Manifest,
  ref: string,
  definitionOf: (entry: StageEntry) => StageDefinition,
  overrides: Readonly<Record<string, ParamValues>>,
): unknown {
  const [stage, param] = ref.split(".") as [string, string];
  const entry = manifest.stages.find((s) => s.name === stage && !s.per_seed);
  if (!entry) {
    throw new TypeError(
      `Cannot resolve "${ref}" in pipeline "${manifest.name}": "${stage}" is not a stage run ` +
        "once",
    );
  }
  const params = resolveParams(definitionOf(entry), stage, [
    { source: `pipelines/${manifest.name}.json`, values: entry.params },
    { source: COMMAND_LINE, values: overrides[stage] ?? {} },
  ]);
  if (!(param in params)) {
    throw new TypeError(
      `Cannot resolve "${ref}" in pipeline "${manifest.name}": stage "${stage}" has no param ` +
        `"${param}"`,
    );
  }
  return params[param];
}

export function stageSelection(manifest: Manifest, until?: string): string[] {
  const names = manifest.stages.map((stage) => stage.name);
  if (until === undefined) return names;
  const index = names.indexOf(until);
  if (index < 0) throw unknownStage(`stop at --until ${until}`, until, manifest, names);
  return names.slice(0, index + 1);
}

/** The one error for a stage name the pipeline lacks: what was asked, the nearest name, all. */
export function unknownStage(
  action: string,
  name: string,
  manifest: Pick<Manifest, "name">,
  names: readonly string[],
): UsageError {
  const hint = closest(name, names);
  return new UsageError(
    `Cannot ${action}: pipeline "${manifest.name}" has no stage "${name}"` +
      (hint ? `; did you mean "${hint}"?` : "") + ` Stages: ${names.join(", ")}`,
  );
}
