/** Commands leave nothing in the temp dir: the GPU probe's runtime folder goes with them. */
import assert from "node:assert/strict";
import { REPO } from "./support/cli.ts";
import { removeTree } from "../shared/util/fs.ts";
import { taskFlags } from "../shared/util/task_flags.ts";

Deno.test("a command removes the runtime folder it made, on success and on failure", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "csn-tmpdir-" });
  try {
    for (const mode of ["ok", "fail"]) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--config",
          `${REPO}deno.json`,
          `${REPO}tests/fixtures/cli/runtime_dir_main.ts`,
          mode,
        ],
        env: { TMPDIR: tmp, XDG_RUNTIME_DIR: "" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(output.code, mode === "ok" ? 0 : 1, new TextDecoder().decode(output.stderr));
      const made = new TextDecoder().decode(output.stdout).trim();
      assert.ok(made.startsWith(tmp), `the probe made its folder in TMPDIR: ${made}`);
      assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], `${mode}: left over`);
    }
  } finally {
    await removeTree(tmp);
  }
});

Deno.test("the runtime folder of a command killed with -9 is swept by the next one", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "csn-tmpdir-" });
  const command = (mode: string) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...taskFlags("shared/cli/stage_main.ts"),
        "--config",
        `${REPO}deno.json`,
        `${REPO}tests/fixtures/cli/runtime_dir_main.ts`,
        mode,
      ],
      env: { TMPDIR: tmp, XDG_RUNTIME_DIR: "" },
      stdout: "piped",
      stderr: "inherit",
    });
  try {
    const killed = command("wait").spawn();
    const reader = killed.stdout.getReader();
    const made = new TextDecoder().decode((await reader.read()).value).trim();
    reader.releaseLock();
    assert.ok(made.startsWith(tmp), made);
    killed.kill("SIGKILL");
    await killed.status;
    await killed.stdout.cancel();
    assert.ok((await Deno.stat(made)).isDirectory, "a killed command cannot clean up");
    const next = await command("ok").output();
    assert.equal(next.code, 0);
    assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], "swept, and its own gone");
  } finally {
    await removeTree(tmp);
  }
});
