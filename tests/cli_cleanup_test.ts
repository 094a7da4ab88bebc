/** Commands leave nothing in the temp dir: the GPU probe's runtime folder goes with them. */
import assert from "node:assert/strict";
import { REPO } from "./support/cli.ts";
import { removeTree } from "../shared/util/fs.ts";

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
