/** runs/NAME/params.json and the report's params come from the run record, whoever ran last. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { copyProject, runJson } from "./support/cli.ts";
import { removeTree } from "../shared/util/fs.ts";

Deno.test("after `stage` runs, params.json and the report show the params that made the outputs", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    await runJson(dir, "pipeline", ["demo"]);
    const read = async (file: string) =>
      JSON.parse(await Deno.readTextFile(join(dir, "runs/demo", file)));
    assert.equal((await read("params.json")).upper.suffix, "!");
    await runJson(dir, "stage", [
      "upper",
      "--pipeline",
      "demo",
      "--suffix",
      "?",
      "--log-every",
      "5",
    ]);
    await runJson(dir, "stage", ["summary", "--pipeline", "demo"]);
    const record = await read("record.json");
    const params = await read("params.json");
    // The record holds every resolved param (volatile ones too); params.json is derived from it.
    assert.deepEqual(record.stages.upper.params, { suffix: "?", log_every: 5 });
    assert.deepEqual(params.upper, { suffix: "?", log_every: 5 });
    assert.equal(record.stages.upper.parts.params.suffix, "?");
    assert.deepEqual(
      params,
      Object.fromEntries(
        Object.entries(record.stages).map(([name, stage]) => [
          name,
          (stage as { params: unknown }).params,
        ]),
      ),
    );
    const html = await Deno.readTextFile(join(dir, "runs/demo/report.html"));
    const resolved = html.slice(html.indexOf("Resolved params"));
    assert.match(resolved, /&quot;suffix&quot;: &quot;\?&quot;/);
    assert.doesNotMatch(resolved, /&quot;suffix&quot;: &quot;!&quot;/);
  } finally {
    await removeTree(dir);
  }
});
