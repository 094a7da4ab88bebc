/**
 * CI gate: fails (exit 1) when the pipeline's test accuracy is below the threshold.
 *   deno run -A shared/observe/check_threshold.ts result.json ci/thresholds.json
 * result.json is `deno task pipeline full --json` output; thresholds.json is
 * {"test_accuracy_min": 0.70}. The accuracy checked is metrics.accuracy of every stage that is
 * the test stage (named "test" or using the test module).
 */
import { z } from "zod";
import { readJsonFile } from "../artefacts/json_artefact.ts";

export const ThresholdsSchema = z.strictObject({ test_accuracy_min: z.number().min(0).max(1) });

const ResultSchema = z.object({
  pipeline: z.string(),
  run: z.string(),
  stages: z.array(
    z.object({
      name: z.string(),
      uses: z.string().optional(),
      status: z.string().optional(),
      metrics: z.record(z.string(), z.unknown()).default({}),
    }),
  ),
});

export interface Verdict {
  ok: boolean;
  message: string;
}

export function checkThreshold(
  result: unknown,
  thresholds: unknown,
  files = { result: "result.json", thresholds: "thresholds.json" },
): Verdict {
  const t = ThresholdsSchema.safeParse(thresholds);
  if (!t.success) return { ok: false, message: invalid(files.thresholds, t.error) };
  const r = ResultSchema.safeParse(result);
  if (!r.success) return { ok: false, message: invalid(files.result, r.error) };
  const min = t.data.test_accuracy_min;
  const stages = r.data.stages.filter((s) => s.name === "test" || s.uses === "test");
  if (stages.length === 0) {
    const names = r.data.stages.map((s) => s.name).join(", ") || "none";
    return {
      ok: false,
      message:
        `"${files.result}" has no test stage (stages: ${names}); the threshold needs the test stage's accuracy`,
    };
  }
  const lines: string[] = [];
  let ok = true;
  for (const stage of stages) {
    const accuracy = stage.metrics["accuracy"];
    if (typeof accuracy !== "number" || !(accuracy >= 0 && accuracy <= 1)) {
      ok = false;
      lines.push(
        `Stage "${stage.name}" in "${files.result}" has no metrics.accuracy between 0 and 1 (got ${
          JSON.stringify(accuracy)
        })`,
      );
      continue;
    }
    const perNotion = Object.entries(
      (stage.metrics["per_condition"] ?? {}) as Record<string, unknown>,
    )
      .map(([notion, v]) => `${notion} ${typeof v === "number" ? v.toFixed(3) : "?"}`)
      .join(", ");
    const where = `stage "${stage.name}" of pipeline ${r.data.pipeline} (${r.data.run})`;
    const detail = perNotion ? ` [${perNotion}]` : "";
    if (accuracy < min) {
      ok = false;
      lines.push(
        `FAIL: test accuracy ${
          accuracy.toFixed(4)
        } of ${where} is below the threshold ${min} (test_accuracy_min in "${files.thresholds}")${detail}`,
      );
    } else {
      lines.push(
        `ok: test accuracy ${accuracy.toFixed(4)} of ${where} meets the threshold ${min}${detail}`,
      );
    }
  }
  return { ok, message: lines.join("\n") };
}

function invalid(file: string, error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `"${file}" is not what was expected: ${issue.path.join(".") || "(top)"}: ${issue.message}`;
}

if (import.meta.main) {
  const [resultFile, thresholdsFile, ...rest] = Deno.args;
  if (!resultFile || !thresholdsFile || rest.length > 0) {
    console.error("Usage: check_threshold.ts RESULT.json THRESHOLDS.json");
    Deno.exit(2);
  }
  let verdict: Verdict;
  try {
    verdict = checkThreshold(await readJsonFile(resultFile), await readJsonFile(thresholdsFile), {
      result: resultFile,
      thresholds: thresholdsFile,
    });
  } catch (error) {
    verdict = { ok: false, message: (error as Error).message };
  }
  console.error(verdict.message);
  Deno.exit(verdict.ok ? 0 : 1);
}
