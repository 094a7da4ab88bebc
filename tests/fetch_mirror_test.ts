/**
 * A mirror folder that is named is used, or the run fails naming what is missing: never a
 * silent fall-through to the network (offline that was seconds of retries, then advice to
 * pass the very option the user had passed).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { download, DownloadError } from "../shared/net/download.ts";
import { removeTree } from "../shared/util/fs.ts";
import { cli, REPO } from "./support/cli.ts";
import { serveFiles } from "./loopback_server.ts";
import { buildFixture, writeRawDir } from "./zappos_fixture.ts";

const log = (_: string) => {};

Deno.test("download with a named mirror that lacks the file fails, asking nothing", async () => {
  const served = serveFiles({ "ut-zap50k-images.zip": new Uint8Array(10) });
  const mirrorDir = await Deno.makeTempDir();
  const cacheDir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(mirrorDir, "other.zip"), "x");
    await assert.rejects(
      () => download({ url: served.url("ut-zap50k-images.zip"), cacheDir, mirrorDir, log }),
      (error: Error) => {
        assert.ok(error instanceof DownloadError, String(error));
        assert.match(error.message, /^Cannot use mirror folder /);
        assert.ok(error.message.includes('"ut-zap50k-images.zip"'), error.message);
        assert.ok(error.message.includes("other.zip"), error.message);
        return true;
      },
    );
    assert.equal(served.requests.length, 0, "the URL is never asked");
  } finally {
    await served.close();
    for (const dir of [mirrorDir, cacheDir]) await removeTree(dir);
  }
});

async function repoProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "csn-mirror-" });
  for (const name of ["stages", "shared", "node_modules", "deno.lock", "pipelines"]) {
    await Deno.symlink(join(REPO, name), join(dir, name));
  }
  return dir;
}

Deno.test("status with a bad mirror folder fails at plan time, naming what is missing", async () => {
  const project = await repoProject();
  const fixture = buildFixture();
  const lacking = await writeRawDir(fixture);
  await Deno.remove(join(lacking, "csn_zappos_triplets.zip"));
  const unzipped = await Deno.makeTempDir();
  await Deno.mkdir(join(unzipped, "ut-zap50k-images/Boots"), { recursive: true });
  await Deno.mkdir(join(unzipped, "tripletlists"));
  await Deno.writeTextFile(join(unzipped, "filenames.json"), "Boots/a.jpg\n");
  const missing = join(project, "no-such-folder");
  // Offline by construction: the URLs point at a closed port, so a fall-through would fail
  // with the download message, not the mirror one.
  const offline = ["--set", "fetch.images_url=http://127.0.0.1:9/ut-zap50k-images.zip"];
  try {
    const cases: [string, RegExp[]][] = [
      [missing, [/does not exist/]],
      [lacking, [/"csn_zappos_triplets\.zip"/, /ut-zap50k-images\.zip/]],
      [unzipped, [/"ut-zap50k-images\.zip"/, /ut-zap50k-images\//, /unzipped/]],
    ];
    for (const [dir, patterns] of cases) {
      const started = performance.now();
      const result = await cli(project, "status", [
        "zappos-quick",
        "--until",
        "fetch",
        "--set",
        `fetch.mirror=${dir}`,
        ...offline,
      ]);
      assert.notEqual(result.code, 0, result.stderr);
      assert.match(result.stderr, /Cannot use mirror folder /, result.stderr);
      assert.ok(result.stderr.includes(dir), result.stderr);
      for (const pattern of patterns) assert.match(result.stderr, pattern, result.stderr);
      assert.doesNotMatch(result.stderr, /Cannot download/, "no fall-through to the URL");
      assert.ok(performance.now() - started < 30_000);
    }
  } finally {
    for (const dir of [project, lacking, unzipped]) await removeTree(dir);
  }
});
