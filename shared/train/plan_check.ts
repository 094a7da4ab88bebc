/**
 * The train stage's checks when a pipeline is planned: notions named by train.conditions exist
 * in the dataset upstream (with its preprocess params: zappos keeps only the conditions it is
 * told to), and a local train.pretrained file exists. Both used to fail only when training
 * started, after fetch, preprocess and shard had run.
 */
import { findDatasetSpec } from "../data/specs.ts";
import { UsageError } from "../util/usage_error.ts";
import type { TrainParams } from "./params.ts";

/** The part of the plan a check reads (the stage contract's PlanView). */
export interface TrainPlanView {
  readonly name: string;
  upstream(uses: string): Readonly<Record<string, unknown>> | undefined;
}

export async function checkTrainPlan(params: TrainParams, plan: TrainPlanView): Promise<void> {
  const fetch = plan.upstream("fetch");
  const spec = typeof fetch?.dataset === "string" ? findDatasetSpec(fetch.dataset) : undefined;
  if (params.conditions && spec?.notions) {
    const notions = spec.notions(plan.upstream("preprocess") ?? {});
    for (const name of params.conditions) {
      if (!notions.includes(name)) {
        throw new UsageError(
          `Cannot plan stage "${plan.name}": train.conditions names "${name}", which dataset ` +
            `"${spec.name}" does not have (it has: ${notions.join(", ")})`,
        );
      }
    }
  }
  const pretrained = params.pretrained;
  if (pretrained !== "" && !/^https?:\/\//i.test(pretrained)) {
    try {
      if (!(await Deno.stat(pretrained)).isFile) throw new Deno.errors.NotFound(pretrained);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new UsageError(
        `Cannot plan stage "${plan.name}": train.pretrained "${pretrained}" does not exist ` +
          "(expected a torch .pth file or an http(s) URL)",
      );
    }
  }
}
