/** push / pull of a run between the local store and S3 (fauxqs on 127.0.0.1). */
import assert from "node:assert/strict";
import { S3Client } from "../shared/store/s3_client.ts";
import { s3SettingsFromEnv } from "../shared/store/s3_config.ts";
import { removeTree } from "../shared/util/fs.ts";
import { cli, copyProject, runJson, statuses } from "./support/cli.ts";
import { startS3 } from "./support/s3_server.ts";

async function sync(dir: string, args: string[], env: Record<string, string>) {
  const result = await cli(dir, "sync", [...args, "--json"], env);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as { copied: string[]; present: string[]; entries: number };
}

Deno.test("a pushed run pulls onto another machine whole and cached; both resume", async () => {
  const s3 = await startS3();
  const url = `s3://${s3.bucket}/shared`;
  const [here, there] = [
    await copyProject("tests/fixtures/pipeline_project"),
    await copyProject("tests/fixtures/pipeline_project"),
  ];
  try {
    const made = await runJson(here, "pipeline", ["demo"]);
    const ids = made.stages.flatMap((stage) => Object.values(stage.outputs)).sort();
    const pushed = await sync(here, ["push", "demo", "--store", url], s3.env);
    assert.deepEqual([...pushed.copied].sort(), ids);
    assert.equal(pushed.entries, 3);
    // As after a kill mid-push: one artefact lost its listing; a second push redoes only it.
    const client = new S3Client(s3SettingsFromEnv((name) => s3.env[name]), s3.bucket);
    await client.delete(`shared/objects/${ids[0]}/listing.json`);
    const resumed = await sync(here, ["push", "demo", "--store", url], s3.env);
    assert.deepEqual(resumed.copied, [ids[0]]);
    assert.equal(resumed.present.length, ids.length - 1);
    const pulled = await sync(there, ["pull", "demo"], { ...s3.env, CSN_STORE: url });
    assert.deepEqual([...pulled.copied].sort(), ids);
    const again = await sync(there, ["pull", "demo", "--store", url], s3.env);
    assert.deepEqual(again.copied, [], "a second pull copies nothing");
    const local = await runJson(there, "pipeline", ["demo"]);
    assert.deepEqual(statuses(local), { source: "cached", upper: "cached", summary: "cached" });
    assert.deepEqual(local.stages.map((s) => s.outputs), made.stages.map((s) => s.outputs));
  } finally {
    await s3.stop();
    await removeTree(here);
    await removeTree(there);
  }
});

Deno.test("push and pull say what is missing", async () => {
  const s3 = await startS3();
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    const noRun = await cli(
      dir,
      "sync",
      ["push", "demo", "--store", `s3://${s3.bucket}/x`],
      s3.env,
    );
    assert.equal(noRun.code, 1);
    assert.match(noRun.stderr, /Cannot push run "demo": .*runs\/demo\/record\.json does not exist/);
    const noRemote = await cli(
      dir,
      "sync",
      ["pull", "demo", "--store", `s3://${s3.bucket}/x`],
      s3.env,
    );
    assert.equal(noRemote.code, 1);
    assert.match(
      noRemote.stderr,
      /Cannot pull run "demo": s3:\/\/csn-test\/x\/runs\/demo\/record\.json does not exist/,
    );
    const noStore = await cli(dir, "sync", ["pull", "demo"], { CSN_STORE: "" });
    assert.equal(noStore.code, 2);
    assert.match(noStore.stderr, /Cannot pull run "demo": it needs a remote store/);
  } finally {
    await s3.stop();
    await removeTree(dir);
  }
});
