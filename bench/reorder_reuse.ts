/**
 * What keeping reordered copies with their tensors saves (shared/engine/native/reorder_cache.ts):
 * op_profile's training step (or evaluation batch) on the native backend, one oneDNN thread,
 * with the cache on and off in alternating rounds of one process, so that both sides see the
 * same load. Prints the medians of the convolutions' CPU milliseconds and the step's, and the
 * most bytes the cache held during a step. `--only=on|off` runs one side alone: two such
 * processes at once load the machine as two training workers do.
 *
 *   deno run -A bench/reorder_reuse.ts [--case=paper112|paper64|small64] [--precision=fp32|bf16]
 *     [--rounds=8] [--eval] [--only=on|off]
 */
import { parseArgs } from "node:util";
import { profileEval, profileStep } from "./op_profile.ts";
import { benchCases } from "./train_bench.ts";
import { nativeContext } from "../shared/engine/native/context.ts";
import type { Precision } from "../shared/engine/precision.ts";
import { median } from "./timing.ts";

const KERNELS = ["NativeConv2D", "NativeConv2DBackpropInput", "NativeConv2DBackpropFilter"];
const COLUMNS = ["forward", "backward-data", "backward-weights", "step"];

interface Round {
  readonly cpuMs: number[];
  readonly hits: number;
  readonly stores: number;
  readonly peakBytes: number;
}

async function round(
  on: boolean,
  c: ReturnType<typeof benchCases>[number],
  precision: Precision,
  evaluation: boolean,
): Promise<Round> {
  const kept = nativeContext().reordered;
  kept.enabled = on;
  kept.peakBytes = 0;
  const [hits, stores] = [kept.hits, kept.stores];
  const p = await (evaluation ? profileEval : profileStep)("native", c, precision);
  kept.enabled = true;
  const ms = KERNELS.map((k) => p.ops.find((o) => o.kernel === k)?.cpuMs ?? 0);
  return {
    cpuMs: [...ms, p.cpuMs],
    hits: kept.hits - hits,
    stores: kept.stores - stores,
    peakBytes: kept.peakBytes,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      case: { type: "string", default: "paper112" },
      precision: { type: "string", default: "fp32" },
      rounds: { type: "string", default: "8" },
      eval: { type: "boolean", default: false },
      only: { type: "string" },
    },
  });
  if (values.only !== undefined && values.only !== "on" && values.only !== "off") {
    throw new RangeError(`Cannot read --only "${values.only}": expected on or off`);
  }
  const sides = values.only ? [values.only === "on"] : [true, false];
  if (values.precision !== "fp32" && values.precision !== "bf16") {
    throw new RangeError(`Cannot read --precision "${values.precision}": expected fp32 or bf16`);
  }
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`Cannot read --rounds "${values.rounds}": expected a positive integer`);
  }
  const c = benchCases(true).find((x) => x.name === values.case);
  if (!c) {
    throw new RangeError(
      `Cannot measure case "${values.case}": no such case (known: ${
        benchCases(true).map((x) => x.name).join(", ")
      })`,
    );
  }
  const results = { on: [] as Round[], off: [] as Round[] };
  for (let r = 0; r < rounds; r++) {
    for (const on of r % 2 ? [...sides].reverse() : sides) {
      const got = await round(on, c, values.precision, values.eval);
      (on ? results.on : results.off).push(got);
      console.error(
        `round ${r + 1} cache ${on ? "on " : "off"}: ${
          got.cpuMs.map((x) => x.toFixed(1)).join(" / ")
        } ms; ${got.hits} copies found, ${got.stores} made`,
      );
    }
  }
  const { isa, version } = nativeContext().dnnl.info;
  console.log(
    `${c.name} ${values.eval ? "evaluation batch" : "training step"}, ${values.precision}, ` +
      `oneDNN ${version} ${isa}, 1 thread; CPU ms, medians of ${rounds} rounds`,
  );
  console.log(`| cache | ${COLUMNS.join(" | ")} |`);
  for (const side of ["off", "on"] as const) {
    if (results[side].length === 0) continue;
    const cells = COLUMNS.map((_, i) => median(results[side].map((x) => x.cpuMs[i]!)).toFixed(1));
    console.log(`| ${side} | ${cells.join(" | ")} |`);
  }
  const on = results.on[results.on.length - 1];
  if (on) {
    console.log(
      `per round with the cache (${
        values.eval ? "3 warm-up and 10 timed batches" : "a warm-up and the timed step"
      }): ${on.hits} copies found, ` +
        `${on.stores} made, at most ${(on.peakBytes / 2 ** 20).toFixed(1)} MiB kept`,
    );
  }
}
