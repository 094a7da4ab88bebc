/**
 * Talking to SLURM: submit with sbatch, follow job states with scontrol (no accounting
 * needed), stream the jobs' logs, cancel with scancel.
 */
import { join } from "node:path";

export interface JobState {
  /** "12" or "12_3" for an array task. */
  readonly id: string;
  readonly state: string;
  readonly exit: string;
}

const FAILED = new Set([
  "FAILED",
  "CANCELLED",
  "TIMEOUT",
  "NODE_FAIL",
  "OUT_OF_MEMORY",
  "PREEMPTED",
  "BOOT_FAIL",
  "DEADLINE",
]);

export function isFailed(state: string): boolean {
  return FAILED.has(state);
}

async function run(binary: string, args: string[]): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(binary, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `Cannot run ${binary}: it is not installed (SLURM's client tools, slurm-client)`,
      );
    }
    throw error;
  }
  const text = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    const why = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`Cannot ${binary} ${args.join(" ")}: ${why || `exit ${output.code}`}`);
  }
  return text;
}

/** Submits a script; returns the job id. */
export async function sbatch(script: string): Promise<string> {
  const out = (await run("sbatch", ["--parsable", script])).trim();
  const id = out.split(";")[0]!;
  if (!/^\d+$/.test(id)) throw new Error(`Cannot read the job id sbatch printed: "${out}"`);
  return id;
}

/** Parses `scontrol show job -o` lines: one per job, or per array task once it is split. */
export function parseScontrol(text: string): JobState[] {
  const states: JobState[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const field = (name: string) => new RegExp(`(?:^|\\s)${name}=(\\S*)`).exec(line)?.[1];
    const array = field("ArrayJobId");
    const task = field("ArrayTaskId");
    const id = array && task ? `${array}_${task}` : field("JobId") ?? "?";
    states.push({ id, state: field("JobState") ?? "UNKNOWN", exit: field("ExitCode") ?? "" });
  }
  return states;
}

export async function jobStates(id: string): Promise<JobState[]> {
  return parseScontrol(await run("scontrol", ["show", "job", "-o", id]));
}

export async function scancel(ids: readonly string[]): Promise<void> {
  if (ids.length) await run("scancel", [...ids]);
}

/** The job id in a log's name (`<stage>-<job>.log`, `<stage>-<job>_<task>.log`). */
export function logJobId(name: string): string | undefined {
  return /-(\d+)(?:_\d+)?\.log$/.exec(name)?.[1];
}

/**
 * Prints what the logs of the given jobs gained since the last call, each line prefixed by its
 * log. Logs of other jobs in the folder (earlier runs' jobs) are left alone.
 */
export class LogFollower {
  readonly #offsets = new Map<string, number>();

  constructor(
    readonly dir: string,
    readonly jobs: ReadonlySet<string>,
    readonly log: (line: string) => void,
  ) {}

  async poll(): Promise<void> {
    for await (const entry of Deno.readDir(this.dir)) {
      if (!entry.isFile || !this.jobs.has(logJobId(entry.name) ?? "")) continue;
      const path = join(this.dir, entry.name);
      const seen = this.#offsets.get(path) ?? 0;
      const bytes = await Deno.readFile(path);
      const end = bytes.lastIndexOf(10) + 1; // whole lines only
      if (end <= seen) continue;
      const text = new TextDecoder().decode(bytes.subarray(seen, end));
      this.#offsets.set(path, end);
      const tag = entry.name.replace(/\.log$/, "");
      for (const line of text.split("\n").slice(0, -1)) this.log(`[${tag}] ${line}`);
    }
  }
}

/** The last lines of a job's log, for a failure message. */
export async function logTail(path: string, lines = 15): Promise<string> {
  try {
    const text = await Deno.readTextFile(path);
    return text.trimEnd().split("\n").slice(-lines).map((line) => `  ${line}`).join("\n");
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "  (no log written)";
    throw error;
  }
}
