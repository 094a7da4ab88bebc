/**
 * deno task bench [NAME...] [--json]: runs the named benchmarks (default: all), each beside
 * its reference in the same run, and prints medians and ratios: one summary line each on
 * stdout, or with --json one JSON object on stdout and the summaries on stderr.
 * Each bench returns its figures plus a `summary` line.
 */
import { cacheBench } from "./cache_bench.ts";
import { preprocessBench } from "./preprocess_bench.ts";
import { shardReadBench } from "./shard_read_bench.ts";
import { evalBench } from "./eval_bench.ts";
import { trainBench } from "./train_bench.ts";
import { glyphBench } from "./glyph_bench.ts";
import { tbBench } from "./tb_bench.ts";
import { s3Bench } from "./s3_bench.ts";
import { slurmBench } from "./slurm_bench.ts";
import { serveBench } from "./serve_bench.ts";
import { onnxBench } from "./onnx_bench.ts";

const BENCHES: Record<string, () => Promise<Record<string, unknown>>> = {
  cache: () => cacheBench(),
  preprocess: () => preprocessBench(),
  glyphs: () => glyphBench(),
  shards: () => shardReadBench(),
  eval: () => evalBench(),
  train: () => trainBench(),
  tb: () => tbBench(),
  s3: () => s3Bench(),
  slurm: () => slurmBench(),
  serve: () => serveBench(),
  onnx: () => onnxBench(),
};

if (import.meta.main) {
  const json = Deno.args.includes("--json");
  const names = Deno.args.filter((arg) => !arg.startsWith("--"));
  for (const name of names) {
    if (!(name in BENCHES)) {
      console.error(`error: no benchmark "${name}" (known: ${Object.keys(BENCHES).join(", ")})`);
      Deno.exit(2);
    }
  }
  const results: Record<string, unknown> = {};
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    console.error(`== bench ${name}`);
    const result = await BENCHES[name]!();
    result.summary ??= `${name}: ${JSON.stringify(result)}`;
    if (json) console.error(result.summary);
    else console.log(result.summary);
    results[name] = result;
  }
  if (json) console.log(JSON.stringify(results));
}
