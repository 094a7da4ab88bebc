/**
 * What the evaluating stages (validate, test, probe) start from: the evaluator, their shards,
 * the evaluation options their shared params give, and a model input's checkpoint file.
 */
import type { StageContext } from "../stage/contract.ts";
import type { BackendChoice } from "../engine/choices.ts";
import { openShards, type ShardSet } from "../data/shards/reader.ts";
import { checkpointFileIn } from "./checkpoint_file.ts";

type ModelEval = typeof import("./model_eval.ts");
export type Evaluate = ModelEval["evaluateCheckpoint"];
export type EvalOptions = Omit<Parameters<Evaluate>[2], "split" | "retrieval">;

/** The params of EvalParamsShape, as a stage receives them. */
export interface EvalParams {
  readonly batch_size: number;
  readonly workers: number;
  readonly backend: BackendChoice;
  readonly margin: number;
}

export interface EvalInputs {
  readonly evaluate: Evaluate;
  readonly shards: ShardSet;
  readonly options: EvalOptions;
}

/** Loads the evaluator (TensorFlow.js loads only now: not for cached reruns) and the shards. */
export async function openEvalInputs(ctx: StageContext<EvalParams>): Promise<EvalInputs> {
  const { evaluateCheckpoint } = await import(
    new URL("./model_eval.ts", import.meta.url).href
  ) as ModelEval;
  return {
    evaluate: evaluateCheckpoint,
    shards: await openShards(ctx.inputs.shards!.dir),
    options: {
      workers: ctx.params.workers,
      backend: ctx.params.backend,
      batchSize: ctx.params.batch_size,
      margin: ctx.params.margin,
      log: ctx.log,
    },
  };
}

/** The checkpoint file of the stage's `model` input (see checkpointFileIn). */
export async function modelCheckpoint(ctx: StageContext<unknown>): Promise<string> {
  const model = ctx.inputs.model!;
  return await checkpointFileIn(model.dir, `checkpoint artefact ${model.id}`);
}
