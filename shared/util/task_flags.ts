/**
 * The permission flags each `deno task` grants, read from deno.json so that there is one
 * source of truth: the SLURM executor starts `stage` on a node with the stage task's flags,
 * and the tests run the CLI exactly as the tasks do.
 */
import config from "../../deno.json" with { type: "json" };

const TASKS = config.tasks as Record<string, string>;

/** The flags between `deno run` and the entry point of the task running `entry`
 * (e.g. "shared/cli/stage_main.ts"). */
export function taskFlags(entry: string): string[] {
  const task = Object.entries(TASKS).find(([, command]) => command.split(/\s+/).includes(entry));
  if (!task) throw new Error(`Cannot read task flags for ${entry}: no deno.json task runs it`);
  const words = task[1].split(/\s+/);
  const start = words.indexOf("run") + 1;
  const end = words.indexOf(entry);
  if (words[0] !== "deno" || start === 0 || end < start) {
    throw new Error(`Cannot read the flags of task "${task[0]}": expected "deno run ... ${entry}"`);
  }
  return words.slice(start, end);
}
