/**
 * CI gate: exit 1 when the pipeline's test accuracy is below the threshold (see
 * shared/observe/check_threshold.ts for what is checked):
 *   deno run -A shared/cli/check_threshold_main.ts result.json ci/thresholds.json
 */
import { checkThreshold, type Verdict } from "../observe/check_threshold.ts";
import { UsageError } from "../util/usage_error.ts";
import { main, parseArgs } from "./args.ts";
import { readJsonFile } from "../util/fs.ts";

if (import.meta.main) {
  await main(async () => {
    const [resultFile, thresholdsFile, ...rest] = parseArgs(Deno.args, {}).positional;
    if (!resultFile || !thresholdsFile || rest.length > 0) {
      throw new UsageError(
        "Cannot check thresholds: expected two arguments, RESULT.json THRESHOLDS.json",
      );
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
    return verdict.ok ? 0 : 1;
  });
}
