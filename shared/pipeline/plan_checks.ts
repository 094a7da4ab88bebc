/**
 * Runs each planned stage's `planCheck` once the whole plan is known: what the param schemas
 * cannot see (a file a param names, a notion that depends on the dataset upstream) fails when
 * the pipeline is planned, in `status` and `--dry-run` too, not when the stage starts after
 * its upstream stages have run for minutes.
 */
import type { PlanView } from "../stage/contract.ts";
import type { StageEntry } from "./manifest.ts";
import type { ParamValues } from "./params.ts";

export interface CheckedStage {
  readonly entry: StageEntry;
  readonly definition: {
    readonly planCheck?: (params: never, plan: PlanView) => void | Promise<void>;
  };
  readonly params: ParamValues;
}

/** The view of the plan one stage's check gets: upstream params, nearest first. */
export function planView(stages: readonly CheckedStage[], name: string): PlanView {
  const byName = new Map(stages.map((stage) => [stage.entry.name, stage]));
  return {
    name,
    upstream(uses: string) {
      const seen = new Set<string>();
      let frontier = [name];
      while (frontier.length > 0) {
        const next: string[] = [];
        for (const current of frontier) {
          for (const ref of Object.values(byName.get(current)?.entry.inputs ?? {})) {
            const upstream = ref.split(".")[0]!;
            if (seen.has(upstream)) continue;
            seen.add(upstream);
            const stage = byName.get(upstream);
            if (stage === undefined) continue;
            if ((stage.entry.uses ?? stage.entry.name) === uses) return stage.params;
            next.push(upstream);
          }
        }
        frontier = next;
      }
      return undefined;
    },
  };
}

/** Runs the checks of the stages named in `only` (all when absent). */
export async function runPlanChecks(
  stages: readonly CheckedStage[],
  only?: ReadonlySet<string>,
): Promise<void> {
  for (const stage of stages) {
    if (only && !only.has(stage.entry.name)) continue;
    const check = stage.definition.planCheck;
    if (check) await check(stage.params as never, planView(stages, stage.entry.name));
  }
}
