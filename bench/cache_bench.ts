/**
 * Benchmark: wall time of an all-cached rerun of a six-stage pipeline with realistic artefact
 * sizes (850 files, ~370 MB), beside two references measured in the same run: the bare Deno
 * start-up of the CLI (`--help`), and the same check rehashing every byte (what a store
 * without the size+mtime trust would do). Prints medians of several runs and the ratios.
 */
import { join } from "node:path";
import { copyProject } from "../tests/support/cli.ts";
import { cliCommand } from "../tests/support/cli.ts";
import { LocalStore } from "../shared/store/local_store.ts";
import { removeTree } from "../shared/util/fs.ts";
import { median, timeIt } from "./timing.ts";

export async function cacheBench(runs = 7): Promise<Record<string, unknown>> {
  const dir = await copyProject("bench/fixtures/cache_project");
  try {
    const build = await timeIt(() => runCli(dir, ["bench"]));
    console.error(`built the six artefacts in ${build.toFixed(1)} s`);
    const cached: number[] = [];
    const startup: number[] = [];
    const rehash: number[] = [];
    const store = new LocalStore(join(dir, "data/store"));
    for (let i = 0; i < runs; i++) {
      cached.push(await timeIt(() => runCli(dir, ["bench"])));
      startup.push(await timeIt(() => runCli(dir, ["--help"])));
      rehash.push(
        await timeIt(async () => {
          for (const id of await store.list()) {
            const check = await store.verify(id, "full");
            if (!check.intact) {
              throw new Error(
                `Cannot verify bench artefact ${id}: it is damaged: ${check.problem}`,
              );
            }
          }
        }),
      );
    }
    const result = {
      bench: "cache",
      files: 850,
      megabytes: 370,
      cached_rerun_s: median(cached),
      deno_startup_s: median(startup),
      full_rehash_s: median(rehash),
      target_s: 0.3,
    };
    return {
      ...result,
      summary:
        `all-cached rerun of 6 stages: ${result.cached_rerun_s.toFixed(3)} s (target < 0.3 s); ` +
        `CLI start-up alone ${result.deno_startup_s.toFixed(3)} s; rehashing every byte instead ` +
        `${result.full_rehash_s.toFixed(3)} s (${
          (result.full_rehash_s / result.cached_rerun_s).toFixed(1)
        }x the cached rerun)`,
    };
  } finally {
    await removeTree(dir);
  }
}

async function runCli(dir: string, args: string[]): Promise<void> {
  const output = await cliCommand(dir, "pipeline", args).output();
  if (output.code !== 0) {
    throw new Error(
      `Cannot run pipeline ${args.join(" ")}: it exited ${output.code}: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
}

if (import.meta.main) console.log((await cacheBench()).summary);
