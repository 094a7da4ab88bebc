/**
 * Per-seed expansion of a manifest: every `per_seed` stage becomes one instance per seed
 * (`train-s1`, `train-s2`, ...), wired to the same seed's upstream instances; a stage that is
 * not per seed but takes a per-seed input receives one input per seed (`results-s1`, ...).
 * Adding a seed adds instances and leaves the existing ones (and their cache keys) unchanged.
 */
import type { Manifest, StageEntry } from "./manifest.ts";

export function seedName(name: string, seed: number): string {
  return `${name}-s${seed}`;
}

export function expandSeeds(
  manifest: Manifest,
  seeds: number,
  takesSeed: (entry: StageEntry) => boolean,
): Manifest {
  if (!Number.isInteger(seeds) || seeds < 1 || seeds > 1000) {
    throw new RangeError(
      `Cannot expand the seeds of pipeline "${manifest.name}": ${manifest.seeds_from} must be ` +
        `a whole number of seeds from 1 to 1000, got ${seeds}`,
    );
  }
  const perSeed = new Set(manifest.stages.filter((s) => s.per_seed).map((s) => s.name));
  const stages: StageEntry[] = [];
  for (const entry of manifest.stages) {
    if (entry.per_seed) {
      for (let seed = 1; seed <= seeds; seed++) {
        const inputs = Object.fromEntries(
          Object.entries(entry.inputs).map(([input, ref]) => {
            const [stage, output] = ref.split(".") as [string, string];
            return [input, perSeed.has(stage) ? `${seedName(stage, seed)}.${output}` : ref];
          }),
        );
        stages.push({
          ...entry,
          name: seedName(entry.name, seed),
          uses: entry.uses ?? entry.name,
          inputs,
          params: takesSeed(entry) ? { ...entry.params, seed } : entry.params,
          per_seed: false,
        });
      }
      continue;
    }
    const inputs: Record<string, string> = {};
    for (const [input, ref] of Object.entries(entry.inputs)) {
      const [stage, output] = ref.split(".") as [string, string];
      if (!perSeed.has(stage)) inputs[input] = ref;
      else {
        for (let seed = 1; seed <= seeds; seed++) {
          inputs[seedName(input, seed)] = `${seedName(stage, seed)}.${output}`;
        }
      }
    }
    stages.push({ ...entry, inputs });
  }
  return { ...manifest, stages };
}

/** The manifest stage a (possibly expanded) instance name came from. */
export function baseName(name: string, manifest: Manifest): string {
  const match = /^(.*)-s\d+$/.exec(name);
  if (match && manifest.stages.some((s) => s.name === match[1] && s.per_seed)) return match[1]!;
  return name;
}
