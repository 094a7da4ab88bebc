/**
 * The deno.json tasks grant what each command needs, not -A: a stage can write only under the
 * project's data/ and runs/ and the temp dir (tried for real with the stage task's flags), only
 * the tasks that load native code (oneDNN, sharp) get --allow-ffi, and only `pipeline` may run
 * the SLURM client commands.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import config from "../deno.json" with { type: "json" };
import { taskFlags } from "../shared/util/task_flags.ts";
import { REPO } from "./support/cli.ts";
import { removeTree } from "../shared/util/fs.ts";

const TASKS = config.tasks as Record<string, string>;

Deno.test("tasks: no -A outside bench; ffi and run only where needed", () => {
  for (const [name, command] of Object.entries(TASKS)) {
    if (name === "bench" || name === "test") continue;
    assert.ok(!command.split(/\s+/).includes("-A"), `task ${name} still runs with -A`);
  }
  const ffi = Object.keys(TASKS).filter((t) => TASKS[t]!.includes("--allow-ffi"));
  assert.deepEqual(ffi.sort(), ["export", "pipeline", "query", "serve", "stage", "status"]);
  const run = Object.keys(TASKS).filter((t) => TASKS[t]!.includes("--allow-run"));
  assert.deepEqual(run, ["pipeline"]);
  assert.ok(TASKS.pipeline!.includes("--allow-run=sbatch,scontrol,scancel"));
  assert.deepEqual(taskFlags("shared/cli/stage_main.ts"), TASKS.stage!.split(/\s+/).slice(2, -1));
  assert.throws(
    () => taskFlags("shared/cli/nothing_main.ts"),
    /Cannot read task flags for shared\/cli\/nothing_main\.ts: no deno\.json task runs it/,
  );
});

Deno.test("the stage task's flags: writes under data/, runs/ and the temp dir only", async () => {
  // Outside /tmp (which the tasks may write), as a user's checkout is: /var/tmp is another
  // folder for Deno's permissions, wherever this checkout lives.
  const project = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "csn-perm-" });
  const elsewhere = `${project}-outside.txt`;
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...taskFlags("shared/cli/stage_main.ts"),
        "--config",
        join(REPO, "deno.json"),
        join(REPO, "tests", "fixtures", "cli", "write_probe.ts"),
        elsewhere,
      ],
      cwd: project,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.deepEqual(result, {
      data: "ok",
      runs: "ok",
      temp: "ok",
      project: "NotCapable",
      elsewhere: "NotCapable",
    });
    await assert.rejects(() => Deno.stat(elsewhere), Deno.errors.NotFound);
  } finally {
    await removeTree(project);
  }
});
