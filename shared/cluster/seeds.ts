/** How many seeds a planned (expanded) manifest runs its per-seed stages with. */
import type { Manifest } from "../pipeline/manifest.ts";
import { seedName } from "../pipeline/expand.ts";

export function seedsOf(source: Manifest, expanded: Manifest): number {
  const perSeed = source.stages.find((stage) => stage.per_seed);
  if (!perSeed) return 0;
  let seeds = 0;
  while (expanded.stages.some((stage) => stage.name === seedName(perSeed.name, seeds + 1))) seeds++;
  return seeds;
}
