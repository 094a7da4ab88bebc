import assert from "node:assert/strict";
import { join } from "node:path";
import { download, DownloadError } from "../shared/net/download.ts";
import { sha256Hex } from "../shared/util/hash.ts";
import { closedPortUrl, serveFiles } from "./loopback_server.ts";
import { bytesOf } from "./support/values.ts";

const payload = bytesOf;

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  return names.sort();
}

const logs: string[] = [];
const log = (m: string) => logs.push(m);

Deno.test("download resumes a dropped connection with a Range request", async () => {
  const bytes = payload(3_000_000);
  const served = serveFiles({ "ut-zap50k-images.zip": bytes }, {
    dropAfter: { "ut-zap50k-images.zip": 1_000_000 },
  });
  const url = served.url("ut-zap50k-images.zip");
  const cacheDir = await Deno.makeTempDir();
  try {
    const path = await download({
      url,
      sha256: sha256Hex(bytes),
      cacheDir,
      log,
      baseDelayMs: 10,
    });
    assert.equal(served.requests.length, 2);
    assert.equal(served.requests[0]!.range, null);
    const resume = /^bytes=(\d+)-$/.exec(served.requests[1]!.range ?? "");
    assert.ok(resume, `second request carried no Range header: ${served.requests[1]!.range}`);
    const from = Number(resume[1]);
    assert.ok(from > 0 && from <= 1_000_000, `resumed from ${from}`);
    const got = await Deno.readFile(path);
    assert.equal(got.length, bytes.length);
    assert.equal(sha256Hex(got), sha256Hex(bytes));
    assert.ok(path.startsWith(cacheDir) && path.includes(sha256Hex(bytes)));
    assert.deepEqual((await listDir(cacheDir)).filter((n) => n.endsWith(".part")), []);
  } finally {
    await served.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("download restarts from byte 0 when the server ignores Range", async () => {
  const bytes = payload(500_000, 7);
  const served = serveFiles({ "t.zip": bytes }, {
    dropAfter: { "t.zip": 200_000 },
    ignoreRange: true,
  });
  const url = served.url("t.zip");
  const cacheDir = await Deno.makeTempDir();
  try {
    const path = await download({ url, cacheDir, log, baseDelayMs: 10 });
    assert.equal(served.requests.length, 2);
    assert.notEqual(served.requests[1]!.range, null);
    assert.equal(sha256Hex(await Deno.readFile(path)), sha256Hex(bytes));
  } finally {
    await served.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("download rejects a sha256 mismatch and keeps nothing", async () => {
  const bytes = payload(10_000);
  const served = serveFiles({ "a.zip": bytes });
  const url = served.url("a.zip");
  const cacheDir = await Deno.makeTempDir();
  const wrong = "ab".repeat(32);
  try {
    await assert.rejects(
      () => download({ url, sha256: wrong, cacheDir, log, baseDelayMs: 10 }),
      (error: Error) => {
        assert.ok(error instanceof DownloadError);
        assert.match(error.message, /^Cannot download .*: its sha256 is /);
        assert.ok(error.message.includes(url), error.message);
        assert.ok(error.message.includes(wrong), error.message);
        assert.ok(error.message.includes(sha256Hex(bytes)), error.message);
        return true;
      },
    );
    // Only the lock file may remain: no part, no final file.
    assert.deepEqual((await listDir(cacheDir)).filter((n) => !n.endsWith(".lock")), []);
  } finally {
    await served.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("download offline names the URL and the mirror option", async () => {
  const url = closedPortUrl("csn_zappos_triplets.zip");
  const cacheDir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () => download({ url, cacheDir, log, retries: 1, baseDelayMs: 10, timeoutMs: 5000 }),
      (error: Error) => {
        assert.ok(error instanceof DownloadError);
        assert.ok(error.message.includes(url), error.message);
        assert.ok(error.message.includes("--set fetch.mirror=DIR"), error.message);
        assert.ok(error.message.includes('"csn_zappos_triplets.zip"'), error.message);
        return true;
      },
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("download reports an HTTP 404 with its status", async () => {
  const served = serveFiles({ "present.zip": payload(10) });
  const cacheDir = await Deno.makeTempDir();
  try {
    const url = served.url("absent.zip");
    await assert.rejects(
      () => download({ url, cacheDir, log, retries: 2, baseDelayMs: 10 }),
      /Cannot download .*absent\.zip: HTTP 404/,
    );
    assert.equal(served.requests.length, 1, "a 404 is not retried");
  } finally {
    await served.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("download reads a mirror file from the mirror every time, hash-checked when pinned", async () => {
  const bytes = payload(20_000, 3);
  const other = payload(20_000, 4);
  const mirrorDir = await Deno.makeTempDir();
  const secondMirror = await Deno.makeTempDir();
  const cacheDir = await Deno.makeTempDir();
  const url = closedPortUrl("ut-zap50k-images.zip");
  try {
    await Deno.writeFile(join(mirrorDir, "ut-zap50k-images.zip"), bytes);
    await Deno.writeFile(join(secondMirror, "ut-zap50k-images.zip"), other);
    const path = await download({ url, sha256: sha256Hex(bytes), cacheDir, mirrorDir, log });
    assert.equal(path, join(mirrorDir, "ut-zap50k-images.zip"));
    // Unpinned, a second mirror with other bytes wins: nothing was kept from the first.
    const second = await download({ url, cacheDir, mirrorDir: secondMirror, log });
    assert.equal(sha256Hex(await Deno.readFile(second)), sha256Hex(other));
    assert.deepEqual(await listDir(cacheDir), [], "mirror files are never copied into the cache");
    await assert.rejects(
      () => download({ url, sha256: "0".repeat(64), cacheDir, mirrorDir, log }),
      /Cannot use mirror file .*: its sha256 is /,
    );
  } finally {
    for (const dir of [mirrorDir, secondMirror, cacheDir]) {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("an unpinned download is revalidated with the server, never reused blindly", async () => {
  const files = { "t.zip": payload(30_000, 5) };
  const served = serveFiles(files, { etags: true });
  const url = served.url("t.zip");
  const cacheDir = await Deno.makeTempDir();
  try {
    const first = await download({ url, cacheDir, log, baseDelayMs: 10 });
    assert.equal(sha256Hex(await Deno.readFile(first)), sha256Hex(files["t.zip"]));
    assert.ok(first.includes(sha256Hex(files["t.zip"])), "named by the hash it was received with");
    assert.equal(served.requests[0]!.ifNoneMatch, null);
    // Unchanged: a conditional GET, answered 304, reuses the copy.
    assert.equal(await download({ url, cacheDir, log, baseDelayMs: 10 }), first);
    assert.match(served.requests[1]!.ifNoneMatch ?? "", /^"30000-/);
    // Changed on the server: the new bytes replace the old copy.
    files["t.zip"] = payload(30_000, 6);
    const changed = await download({ url, cacheDir, log, baseDelayMs: 10 });
    assert.notEqual(changed, first);
    assert.equal(sha256Hex(await Deno.readFile(changed)), sha256Hex(files["t.zip"]));
    assert.equal(await Deno.stat(first).catch(() => undefined), undefined, "old copy removed");
    // refetch ignores the cache: an unconditional GET.
    const again = await download({ url, cacheDir, log, baseDelayMs: 10, refetch: true });
    assert.equal(again, changed);
    assert.equal(served.requests.at(-1)!.ifNoneMatch, null);
  } finally {
    await served.close();
  }
  try {
    // Offline, the cached copy is not used: the error says why and how to pin it.
    await assert.rejects(
      () => download({ url, cacheDir, log, retries: 0, baseDelayMs: 10, timeoutMs: 5000 }),
      (error: Error) => {
        assert.ok(error instanceof DownloadError);
        assert.match(error.message, /Cannot download .*not reused because the server could not/);
        return true;
      },
    );
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("an unpinned download from a server without validators is fetched again", async () => {
  const files = { "v.zip": payload(5_000, 8) };
  const served = serveFiles(files);
  const cacheDir = await Deno.makeTempDir();
  try {
    const first = await download({ url: served.url("v.zip"), cacheDir, log });
    files["v.zip"] = payload(5_000, 9);
    const second = await download({ url: served.url("v.zip"), cacheDir, log });
    assert.equal(served.requests.length, 2);
    assert.notEqual(first, second);
    assert.equal(sha256Hex(await Deno.readFile(second)), sha256Hex(files["v.zip"]));
  } finally {
    await served.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("download rejects a malformed pinned sha256", async () => {
  await assert.rejects(
    () =>
      download({ url: "http://127.0.0.1:9/x.zip", sha256: "xyz", cacheDir: "/nonexistent", log }),
    TypeError,
  );
});

Deno.test("download resumes a part left by an earlier run when the sha256 is pinned", async () => {
  const bytes = payload(100_000, 9);
  const served = serveFiles({ "r.zip": bytes });
  const cacheDir = await Deno.makeTempDir();
  try {
    const sha = sha256Hex(bytes);
    await Deno.writeFile(join(cacheDir, `${sha}-r.zip.part`), bytes.subarray(0, 40_000));
    const path = await download({ url: served.url("r.zip"), sha256: sha, cacheDir, log });
    assert.deepEqual(served.requests.map((r) => r.range), ["bytes=40000-"]);
    assert.equal(sha256Hex(await Deno.readFile(path)), sha);
  } finally {
    await served.close();
    await Deno.remove(cacheDir, { recursive: true });
  }
});
