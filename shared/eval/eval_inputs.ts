/**
 * What the evaluating stages (validate, test, probe) start from: one evaluator (their shards
 * and engine settings) and a model input's checkpoint file.
 */
import type { StageContext } from "../stage/contract.ts";
import type { BackendChoice } from "../engine/choices.ts";
import { openShards, type ShardSet } from "../data/shards/reader.ts";
import { checkpointFileIn } from "./checkpoint_file.ts";
import type { Split } from "../data/dataset.ts";

type ModelEval = typeof import("./model_eval.ts");
type Evaluation = Awaited<ReturnType<ModelEval["evaluateCheckpoint"]>>;

/** The params of EvalParamsShape, as a stage receives them. */
export interface EvalParams {
  readonly batch_size: number;
  readonly workers: number;
  readonly backend: BackendChoice;
  readonly margin: number;
}

/** A stage's shards and its engine settings, ready to evaluate checkpoints on them. */
export interface Evaluator {
  readonly shards: ShardSet;
  /** Loads `file` into an engine, evaluates it on one split, and closes the engine. */
  evaluate(file: string, on: { split: Split; retrieval: boolean }): Promise<Evaluation>;
}

/**
 * The evaluator of an evaluating stage (validate, test, probe): its shards input, and its
 * params' workers, backend, batch size and margin. TensorFlow.js loads only now, so a cached
 * rerun never pays for it.
 */
export async function openEvaluator(ctx: StageContext<EvalParams, "shards">): Promise<Evaluator> {
  const { evaluateCheckpoint } = await import("./model_eval.ts");
  const shards = await openShards(ctx.inputs.shards.dir);
  const { workers, backend, batch_size: batchSize, margin } = ctx.params;
  return {
    shards,
    evaluate: (file, on) =>
      evaluateCheckpoint(file, shards, {
        ...on,
        workers,
        backend,
        batchSize,
        margin,
        log: ctx.log,
      }),
  };
}

/** The checkpoint file of the stage's `model` input (see checkpointFileIn). */
export async function modelCheckpoint(ctx: StageContext<unknown, "model">): Promise<string> {
  const model = ctx.inputs.model;
  return await checkpointFileIn(model.dir, `checkpoint artefact ${model.id}`);
}
