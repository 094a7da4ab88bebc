/**
 * Benchmark: SLURM's scheduling overhead per stage on the one-node test cluster: seconds from
 * sbatch to the job's first command, and from a job's end to the start of the job waiting on
 * it (afterok), beside the same command spawned directly in the same run.
 */
import { join } from "node:path";
import { startSlurm } from "../tests/support/slurm.ts";
import { removeTree } from "../shared/util/fs.ts";
import { median } from "./timing.ts";

export async function slurmBench(runs = 5): Promise<Record<string, unknown>> {
  const slurm = await startSlurm();
  const dir = await Deno.makeTempDir({ prefix: "csn-slurm-bench-" });
  const stamp = (file: string) => `date +%s.%N > ${join(dir, file)}`;
  const read = async (file: string) => {
    for (let i = 0; i < 1200; i++) {
      const text = await Deno.readTextFile(join(dir, file)).catch((error) => {
        if (error instanceof Deno.errors.NotFound) return "";
        throw error;
      });
      if (text.trim()) return Number(text.trim());
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`Cannot measure: ${file} was never written (is the cluster up?)`);
  };
  const sbatch = async (args: string[]) => {
    const out = await new Deno.Command("sbatch", { args: ["--parsable", ...args], env: slurm.env })
      .output();
    if (!out.success) {
      throw new Error(
        `Cannot submit sbatch ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    return new TextDecoder().decode(out.stdout).trim();
  };
  try {
    const toStart: number[] = [];
    const direct: number[] = [];
    const handOff: number[] = [];
    for (let i = 0; i < runs; i++) {
      let submitted = Date.now() / 1000;
      await sbatch(["--wrap", stamp(`start-${i}`), "-o", "/dev/null"]);
      toStart.push((await read(`start-${i}`)) - submitted);
      submitted = Date.now() / 1000;
      await new Deno.Command("sh", { args: ["-c", stamp(`direct-${i}`)] }).output();
      direct.push((await read(`direct-${i}`)) - submitted);
      const first = await sbatch(["--wrap", `sleep 0.2; ${stamp(`end-${i}`)}`, "-o", "/dev/null"]);
      await sbatch([
        `--dependency=afterok:${first}`,
        "--wrap",
        stamp(`next-${i}`),
        "-o",
        "/dev/null",
      ]);
      handOff.push((await read(`next-${i}`)) - (await read(`end-${i}`)));
    }
    const result = {
      bench: "slurm",
      runs,
      submit_to_start_s: median(toStart),
      afterok_handoff_s: median(handOff),
      direct_spawn_s: median(direct),
    };
    return {
      ...result,
      summary: `SLURM per stage: sbatch to start ${result.submit_to_start_s.toFixed(2)} s, ` +
        `afterok hand-off ${result.afterok_handoff_s.toFixed(2)} s, vs spawning directly ` +
        `${result.direct_spawn_s.toFixed(3)} s (${
          (result.submit_to_start_s / result.direct_spawn_s).toFixed(0)
        }x)`,
    };
  } finally {
    await slurm.stop();
    await removeTree(dir);
  }
}

if (import.meta.main) console.log((await slurmBench()).summary);
