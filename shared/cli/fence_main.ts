/**
 * Launcher of `report`, `query` and `export`: grants the command writes to its run folder and
 * --out only (cli/fence.ts), then runs it in a Deno of its own and passes on its exit code.
 * This process loads no third-party code, which is why it may run Deno and make folders.
 *   deno task query --run NAME ...   (deno.json: fence_main.ts query ...)
 */
import { join } from "node:path";
import { fromFileUrl } from "../util/file_url_path.ts";
import { taskFlags } from "../util/task_flags.ts";
import { makeRuntimeDir } from "../util/runtime_dir.ts";
import { FENCED, type FencedCommand, fencedFlags, fenceOf } from "./fence.ts";

const REPO = fromFileUrl(new URL("../../", import.meta.url));

if (import.meta.main) {
  const [command, ...args] = Deno.args;
  if (!FENCED.includes(command as FencedCommand)) {
    console.error(`error: Cannot launch "${command}": expected one of ${FENCED.join(", ")}`);
    Deno.exit(2);
  }
  const root = Deno.env.get("CSN_ROOT") ?? Deno.cwd();
  const fence = fenceOf(command as FencedCommand, args, root, Deno.cwd());
  for (const folder of fence.folders) await Deno.mkdir(folder, { recursive: true });
  const s3 = (Deno.env.get("CSN_STORE") ?? "").startsWith("s3://");
  // The GPU probe wants a runtime folder; made here, so the command needs no temp-dir writes.
  const given = Deno.env.get("XDG_RUNTIME_DIR");
  const runtimeDir = given || !fence.ffi ? undefined : makeRuntimeDir();
  let code: number;
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...fencedFlags(taskFlags("shared/cli/stage_main.ts"), fence, s3),
        "--config",
        join(REPO, "deno.json"),
        join(REPO, "shared", "cli", `${command}_main.ts`),
        ...args,
      ],
      env: runtimeDir ? { XDG_RUNTIME_DIR: runtimeDir } : {},
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    code = (await child.status).code;
  } finally {
    if (runtimeDir) await Deno.remove(runtimeDir, { recursive: true });
  }
  Deno.exit(code);
}
