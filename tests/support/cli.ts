/** Runs csn's CLI entry points as users do (with their deno.json task's permissions, not -A),
 * in a project folder, and captures the outcome. */
import { fromFileUrl } from "../../shared/util/file_url_path.ts";
import { taskFlags } from "../../shared/util/task_flags.ts";
import { FENCED } from "../../shared/cli/fence.ts";

export const REPO = fromFileUrl(new URL("../../", import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cliCommand(
  cwd: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Deno.Command {
  // report, query and export start through their launcher, which fences their writes.
  const fenced = (FENCED as readonly string[]).includes(command);
  const entry = fenced ? "shared/cli/fence_main.ts" : `shared/cli/${command}_main.ts`;
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...taskFlags(entry),
      "--config",
      `${REPO}deno.json`,
      `${REPO}${entry}`,
      ...(fenced ? [command] : []),
      ...args,
    ],
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  });
}

export async function cli(
  cwd: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const output = await cliCommand(cwd, command, args, env).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

/** Runs a pipeline with --json and returns the parsed report, failing loudly otherwise. */
export async function runJson(
  cwd: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
) {
  const result = await cli(cwd, command, [...args, "--json"], env);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.code}:\n${result.stderr}`);
  }
  return JSON.parse(result.stdout) as {
    pipeline: string;
    run: string;
    stages: {
      name: string;
      status: string;
      reason: string;
      key: string;
      outputs: Record<string, string>;
      metrics: Record<string, unknown>;
    }[];
  };
}

/** A fresh copy of a fixture project (a folder relative to the repository) in a temp folder. */
/** --set values that run train, validate and test on wasm in one worker: small and steady. */
export const WASM_ONE_WORKER = [
  "train.workers=1",
  "train.backend=wasm",
  "validate.backend=wasm",
  "validate.workers=1",
  "test.backend=wasm",
  "test.workers=1",
];

/** A temp project linking the repository's stages, library and pipelines. */
export async function repoProject(prefix = "csn-repo-"): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix });
  for (const name of ["stages", "shared", "node_modules", "deno.lock", "pipelines"]) {
    await Deno.symlink(`${REPO}${name}`, `${dir}/${name}`);
  }
  return dir;
}

export async function copyProject(fixture: string): Promise<string> {
  const target = await Deno.makeTempDir({ prefix: "csn-test-" });
  await copyTree(`${REPO}${fixture}`, target);
  return target;
}

async function copyTree(source: string, target: string): Promise<void> {
  await Deno.mkdir(target, { recursive: true });
  for await (const entry of Deno.readDir(source)) {
    const from = `${source}/${entry.name}`;
    const to = `${target}/${entry.name}`;
    if (entry.isDirectory) await copyTree(from, to);
    else await Deno.copyFile(from, to);
  }
}

export function statuses(report: { stages: { name: string; status: string }[] }) {
  return Object.fromEntries(report.stages.map((stage) => [stage.name, stage.status]));
}
