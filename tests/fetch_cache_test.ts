/**
 * The fetch stage's cache key holds the mirror files' hashes, never the mirror's path, and
 * `--force fetch` downloads again. Through the CLI on the repository's zappos-quick pipeline.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO, runJson, statuses } from "./support/cli.ts";
import { buildFixture, writeRawDir } from "./zappos_fixture.ts";
import { serveFiles } from "./loopback_server.ts";
import { removeTree } from "../shared/util/fs.ts";
import { sha256Hex } from "../shared/util/hash.ts";

async function repoProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "csn-fetch-" });
  for (const name of ["stages", "shared", "node_modules", "deno.lock", "pipelines"]) {
    await Deno.symlink(join(REPO, name), join(dir, name));
  }
  return dir;
}

const FETCH = ["zappos-quick", "--until", "fetch"];

Deno.test("fetch is keyed by the mirror files' hashes, not the mirror's path", async () => {
  const project = await repoProject();
  const a = buildFixture();
  const b = buildFixture({ perCategory: 4 });
  const mirrorA = await writeRawDir(a);
  const sameAsA = await writeRawDir(a);
  const mirrorB = await writeRawDir(b);
  try {
    const first = await runJson(project, "pipeline", [
      ...FETCH,
      "--set",
      `fetch.mirror=${mirrorA}`,
    ]);
    assert.equal(statuses(first).fetch, "ran");
    const record = JSON.parse(
      await Deno.readTextFile(join(project, "runs/zappos-quick/record.json")),
    );
    assert.doesNotMatch(JSON.stringify(record.stages.fetch.parts), new RegExp(mirrorA));
    const same = await runJson(project, "status", [...FETCH, "--set", `fetch.mirror=${sameAsA}`]);
    assert.equal(statuses(same).fetch, "cached", "the same files in another folder");
    const other = await runJson(project, "pipeline", [
      ...FETCH,
      "--set",
      `fetch.mirror=${mirrorB}`,
    ]);
    assert.equal(statuses(other).fetch, "ran");
    assert.match(other.stages[0]!.reason, /runtime changed \(mirror_files/);
    const sources = JSON.parse(
      await Deno.readTextFile(join(project, "runs/zappos-quick/fetch/sources.json")),
    );
    assert.equal(sources.images.sha256, sha256Hex(b.imagesZip));
    assert.equal(sources.images.via, "mirror");
    assert.doesNotMatch(JSON.stringify(sources), new RegExp(mirrorB));
  } finally {
    for (const dir of [project, mirrorA, sameAsA, mirrorB]) await removeTree(dir);
  }
});

Deno.test("--force fetch downloads again instead of reusing the download cache", async () => {
  const project = await repoProject();
  const fixture = buildFixture();
  const served = serveFiles({
    "ut-zap50k-images.zip": fixture.imagesZip,
    "csn_zappos_triplets.zip": fixture.tripletsZip,
  }, { etags: true });
  try {
    const urls = [
      "--set",
      `fetch.images_url=${served.url("ut-zap50k-images.zip")}`,
      "--set",
      `fetch.triplets_url=${served.url("csn_zappos_triplets.zip")}`,
    ];
    await runJson(project, "pipeline", [...FETCH, ...urls]);
    assert.equal(served.requests.length, 2);
    const cached = await runJson(project, "pipeline", [...FETCH, ...urls]);
    assert.equal(statuses(cached).fetch, "cached");
    assert.equal(served.requests.length, 2, "a cached stage asks nothing");
    const forced = await runJson(project, "pipeline", [...FETCH, ...urls, "--force", "fetch"]);
    assert.equal(statuses(forced).fetch, "ran");
    const again = served.requests.slice(2);
    assert.equal(again.length, 2);
    assert.deepEqual(again.map((r) => r.ifNoneMatch), [null, null], "full, unconditional GETs");
  } finally {
    await served.close();
    await removeTree(project);
  }
});
