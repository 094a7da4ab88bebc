/**
 * The permission flags each `deno task` grants, read from deno.json so that there is one
 * source of truth: the SLURM executor starts `stage` on a node with the stage task's flags,
 * and the tests run the CLI exactly as the tasks do.
 */
import { isAbsolute, join } from "node:path";
import config from "../../deno.json" with { type: "json" };
import { fromFileUrl } from "./file_url_path.ts";

const TASKS = config.tasks as Record<string, string>;
const REPO = fromFileUrl(new URL("../../", import.meta.url));
const FFI = "--allow-ffi=";

/** The flags between `deno run` and the entry point of the task running `entry`
 * (e.g. "shared/cli/stage_main.ts"). The libraries --allow-ffi names relative to the
 * checkout (its node_modules/ and .native/) are made absolute, so that the flags hold in any
 * working directory; the write paths stay relative to the project, which is the working
 * directory. */
export function taskFlags(entry: string): string[] {
  const task = Object.entries(TASKS).find(([, command]) => command.split(/\s+/).includes(entry));
  if (!task) throw new Error(`Cannot read task flags for ${entry}: no deno.json task runs it`);
  const words = task[1].split(/\s+/);
  const start = words.indexOf("run") + 1;
  const end = words.indexOf(entry);
  if (words[0] !== "deno" || start === 0 || end < start) {
    throw new Error(`Cannot read the flags of task "${task[0]}": expected "deno run ... ${entry}"`);
  }
  return words.slice(start, end).map((flag) =>
    flag.startsWith(FFI) ? FFI + ffiList(flag).join(",") : flag
  );
}

/** The absolute paths (files or folders) the task running `entry` may load with FFI. */
export function ffiPaths(entry: string): string[] {
  const flag = taskFlags(entry).find((word) => word.startsWith(FFI));
  return flag ? ffiList(flag) : [];
}

function ffiList(flag: string): string[] {
  return flag.slice(FFI.length).split(",").map((path) =>
    isAbsolute(path) ? path : join(REPO, path)
  );
}
