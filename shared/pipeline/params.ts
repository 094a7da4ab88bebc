/** Params flow one way: stage defaults, then the manifest, then the command line. */
import type { AnyParamsSchema, StageDefinition } from "../stage/contract.ts";
import { formatZodError } from "../util/zod_error.ts";
import { closest } from "../util/closest.ts";
import { UsageError } from "../util/usage_error.ts";

export type ParamValues = Record<string, unknown>;

/** The layer name of params typed by the user; their errors are usage errors (exit 2). */
export const COMMAND_LINE = "command line";

export function paramNames(schema: AnyParamsSchema): string[] {
  return Object.keys(schema.shape);
}

/** Rejects keys the stage's schema does not know, with the closest known name as a hint. */
export function assertKnownParams(
  definition: StageDefinition,
  stageName: string,
  values: ParamValues,
  source: string,
): void {
  const known = paramNames(definition.params);
  for (const key of Object.keys(values)) {
    if (known.includes(key)) continue;
    const hint = closest(key, known);
    const Kind = source === COMMAND_LINE ? UsageError : TypeError;
    throw new Kind(
      `Cannot resolve params of stage "${stageName}": unknown param "${stageName}.${key}" ` +
        `(${source})` + (hint ? `; did you mean "${stageName}.${hint}"?` : "") +
        ` Known params of ${stageName}: ${known.join(", ") || "none"}`,
    );
  }
}

export function resolveParams(
  definition: StageDefinition,
  stageName: string,
  layers: readonly { readonly source: string; readonly values: ParamValues }[],
): ParamValues {
  const merged: ParamValues = {};
  for (const layer of layers) {
    assertKnownParams(definition, stageName, layer.values, layer.source);
    Object.assign(merged, layer.values);
  }
  const parsed = definition.params.safeParse(merged);
  if (!parsed.success) {
    const detail = formatZodError(parsed.error).replaceAll(/(^|; )/g, `$1${stageName}.`);
    // Blame the user's flags when a failing field came from them; else the manifest.
    const typed = new Set(
      layers.filter((l) => l.source === COMMAND_LINE).flatMap((l) => Object.keys(l.values)),
    );
    const byUser = parsed.error.issues.some((issue) =>
      issue.path.length === 0 || typed.has(String(issue.path[0]))
    );
    const Kind = byUser && typed.size > 0 ? UsageError : TypeError;
    throw new Kind(`Cannot resolve params of stage "${stageName}": ${detail}`);
  }
  return parsed.data as ParamValues;
}

/** Params that can change outputs: everything but the stage's declared volatile ones. */
export function keyedParams(definition: StageDefinition, params: ParamValues): ParamValues {
  const volatile = new Set(definition.volatileParams ?? []);
  return Object.fromEntries(Object.entries(params).filter(([key]) => !volatile.has(key)));
}

/** `--set` values: JSON when they parse as JSON (numbers, booleans, lists), else plain text. */
export function parseParamValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return text;
    throw error;
  }
}

/** Splits `stage.param=value`; the stage part names a stage of the pipeline. */
export function parseSetting(setting: string): { stage: string; param: string; value: unknown } {
  const match = /^([a-z][a-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(setting);
  if (!match) {
    throw new UsageError(`Cannot parse --set "${setting}": expected stage.param=value`);
  }
  return { stage: match[1]!, param: match[2]!, value: parseParamValue(match[3]!) };
}
