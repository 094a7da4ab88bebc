/**
 * The stage contract: every module in stages/ default-exports a StageDefinition.
 *
 * A stage is a stateless function of validated params and input artefacts. It reads its
 * inputs (read-only directories), writes only into the output directories the runner hands
 * it, and returns metrics and the names of human-facing files to publish under runs/NAME/.
 */
import type { z } from "zod";

/** An input artefact, already verified by the store. Treat `dir` as read-only. */
export interface InputArtefact {
  readonly id: string;
  readonly dir: string;
}

/**
 * What `run` receives. `I` and `O` are the declared input and output names, so that
 * `ctx.inputs.shards` is an artefact (not possibly undefined) in a stage that declares it.
 */
export interface StageContext<P, I extends string = string, O extends string = string> {
  /** This stage instance's name in the pipeline (a pipeline may use one stage twice). */
  readonly name: string;
  readonly params: P;
  /** One per declared input (a variadic stage also gets the others its manifest wires). */
  readonly inputs: Readonly<Record<I, InputArtefact>>;
  /** Empty, writable directories, one per declared output; committed after `run` returns. */
  readonly outputs: Readonly<Record<O, string>>;
  /** runs/NAME/: for live logs such as metrics.jsonl; not part of any artefact. */
  readonly runDir: string;
  /**
   * data/work/<cache key>/: survives a crash or kill of this stage run, so a rerun with the
   * same key can resume (e.g. from the last epoch checkpoint). Removed once outputs commit.
   */
  readonly workDir: string;
  /** Progress and logs, to stderr. */
  readonly log: (message: string) => void;
  /** The user forced this run (--force): caches kept outside the store are not to be reused. */
  readonly forced?: boolean;
}

export interface StageResult {
  /** Small JSON-able summary, shown by `--json` and kept with the cache entry. */
  readonly metrics?: Record<string, unknown>;
  /** Files (relative to an output dir) to copy into runs/NAME/<stage>/ for people to read. */
  readonly publish?: Readonly<Record<string, readonly string[]>>;
}

// deno-lint-ignore no-explicit-any
export type AnyParamsSchema = z.ZodObject<any>;

export interface StageDefinition<
  S extends AnyParamsSchema = AnyParamsSchema,
  I extends string = string,
  O extends string = string,
> {
  readonly name: string;
  readonly description: string;
  /** Params with defaults; unknown keys are rejected by the runner. */
  readonly params: S;
  readonly inputs: readonly I[];
  /** Also accepts any other inputs the manifest wires (e.g. one per seed of an experiment). */
  readonly variadicInputs?: boolean;
  readonly outputs: readonly O[];
  /** Params that cannot change outputs (log interval, worker count...): left out of the key. */
  readonly volatileParams?: readonly string[];
  /** Facts of the runtime that change results (library versions, backend). Part of the key. */
  readonly runtimeFacts?: (
    params: z.output<S>,
  ) => Record<string, unknown> | Promise<Record<string, unknown>>;
  /**
   * Checks run when the pipeline is planned (status, --dry-run, before any stage runs), for
   * what the schema cannot see: files named by params, values that depend on an upstream
   * stage's params. Throws with the param named; `plan` reads upstream stages' params.
   */
  planCheck?(params: z.output<S>, plan: PlanView): void | Promise<void>;
  /** A method, so that a stage of named inputs is a StageDefinition the runner can hold. */
  run(ctx: StageContext<z.output<S>, I, O>): Promise<StageResult | void>;
}

/** What a plan check may read of the rest of the plan. */
export interface PlanView {
  /** This stage instance's name in the manifest. */
  readonly name: string;
  /**
   * The resolved params of the nearest stage upstream of this one (following the inputs) that
   * runs stage module `uses` (e.g. "fetch"), or undefined when there is none.
   */
  upstream(uses: string): Readonly<Record<string, unknown>> | undefined;
}

/** Identity helper that infers the params type and the input and output names for `run`. */
export function defineStage<
  S extends AnyParamsSchema,
  const I extends string = never,
  const O extends string = never,
>(definition: StageDefinition<S, I, O>): StageDefinition<S, I, O> {
  return definition;
}
