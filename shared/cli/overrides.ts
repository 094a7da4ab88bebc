/** Turns `--set stage.param=value` flags into per-stage param overrides. */
import { parseSetting } from "../pipeline/params.ts";
import type { ParamValues } from "../pipeline/params.ts";

export function overridesFromSets(sets: readonly string[]): Record<string, ParamValues> {
  const overrides: Record<string, ParamValues> = {};
  for (const setting of sets) {
    const { stage, param, value } = parseSetting(setting);
    (overrides[stage] ??= {})[param] = value;
  }
  return overrides;
}
