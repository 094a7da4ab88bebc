/** shared/store/local_store.ts: ids, verify, sweep, quarantine and concurrent commits, on real files. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { hostname } from "node:os";
import { LocalStore } from "../shared/store/local_store.ts";
import { artefactId } from "../shared/store/listing.ts";
import { sha256Hex } from "../shared/util/hash.ts";
import { canonicalJson } from "../shared/util/canonical_json.ts";
import { removeTree } from "../shared/util/fs.ts";
import { fromFileUrl } from "../shared/util/file_url_path.ts";
import { taskFlags } from "../shared/util/task_flags.ts";

async function storeWith(files: Record<string, string>) {
  const root = await Deno.makeTempDir({ prefix: "csn-store-" });
  const store = new LocalStore(root);
  const draft = await store.draft();
  for (const [path, text] of Object.entries(files)) {
    await Deno.mkdir(join(draft.dir, path, ".."), { recursive: true });
    await Deno.writeTextFile(join(draft.dir, path), text);
  }
  return { root, store, id: await draft.commit() };
}

Deno.test("an artefact's id is the sha256 of its canonical listing, whatever the write order", async () => {
  const a = await storeWith({ "x.txt": "one", "sub/y.txt": "two" });
  const b = await storeWith({ "sub/y.txt": "two", "x.txt": "one" });
  const c = await storeWith({ "x.txt": "one", "sub/y.txt": "TWO" });
  assert.equal(a.id, b.id);
  assert.notEqual(a.id, c.id);
  const expected = sha256Hex(canonicalJson({
    format: "csn-artefact/1",
    files: [
      { path: "sub/y.txt", size: 3, sha256: sha256Hex("two") },
      { path: "x.txt", size: 3, sha256: sha256Hex("one") },
    ],
  }));
  assert.equal(a.id, expected);
  assert.equal(artefactId([...await a.store.listing(a.id)].reverse()), a.id);
  const dir = await a.store.open(a.id);
  assert.equal(await Deno.readTextFile(join(dir, "sub/y.txt")), "two");
  assert.equal(
    (await Deno.stat(join(dir, "x.txt"))).mode! & 0o777,
    0o444,
    "read-only after commit",
  );
  for (const s of [a, b, c]) await removeTree(s.root);
});

Deno.test("verify trusts untouched files, rehashes touched ones, and catches every damage", async () => {
  const { root, store, id } = await storeWith({ "a.bin": "aaaa", "b.bin": "bbbb" });
  assert.deepEqual(await store.verify(id), { intact: true, rehashed: 0 });
  assert.deepEqual(await store.verify(id, "full"), { intact: true, rehashed: 2 });
  const file = join(await store.open(id), "a.bin");
  await Deno.utime(file, new Date(), new Date(Date.now() + 5000));
  assert.deepEqual(await store.verify(id), { intact: true, rehashed: 1 }, "touched, same bytes");
  await Deno.chmod(file, 0o644);
  await Deno.writeTextFile(file, "aaab");
  assert.match((await store.verify(id) as { problem: string }).problem, /a\.bin: content/);
  await Deno.writeTextFile(file, "aaa");
  assert.match(
    (await store.verify(id) as { problem: string }).problem,
    /a\.bin: size 3, expected 4/,
  );
  await Deno.writeTextFile(file, "aaaa");
  await Deno.chmod(await store.open(id), 0o755);
  await Deno.writeTextFile(join(await store.open(id), "extra.txt"), "!");
  assert.deepEqual(await store.verify(id), { intact: false, problem: "files added or removed" });
  assert.deepEqual(await store.verify("0".repeat(64)), { intact: false, problem: "absent" });
  assert.throws(() => store.open("../etc"), /not an artefact id/);
  await removeTree(root);
});

Deno.test("sweep removes drafts of dead writers and keeps live ones", async () => {
  const root = await Deno.makeTempDir({ prefix: "csn-store-" });
  const store = new LocalStore(root);
  const live = await store.draft();
  const dead = join(root, "tmp", `${hostname()}-999999999-${crypto.randomUUID()}`);
  await Deno.mkdir(join(dead, "files"), { recursive: true });
  await Deno.writeTextFile(join(dead, "files", "half.bin"), "half");
  await Deno.chmod(join(dead, "files"), 0o555);
  assert.equal(await store.sweep(), 1);
  const left = [...Deno.readDirSync(join(root, "tmp"))].map((entry) => entry.name).sort();
  assert.deepEqual(left.length, 2, "the live draft and its lock");
  assert.ok(left[1]!.endsWith(".lock"));
  await Deno.writeTextFile(join(live.dir, "ok.txt"), "ok");
  const id = await live.commit();
  assert.equal((await store.verify(id)).intact, true);
  await removeTree(root);
});

Deno.test("a link inside an artefact is damage, not a crash", async () => {
  const { root, store, id } = await storeWith({ "a.bin": "aaaa" });
  const dir = await store.open(id);
  await Deno.chmod(dir, 0o755);
  await Deno.symlink("/etc/hostname", join(dir, "link"));
  const check = await store.verify(id);
  assert.deepEqual(check, { intact: false, problem: '"link" is not a plain file (a link?)' });
  await store.quarantine(id, "test");
  assert.deepEqual(await store.list(), []);
  await removeTree(root);
});

Deno.test("commits of identical content at once all succeed with one id", async () => {
  const root = await Deno.makeTempDir({ prefix: "csn-store-" });
  const stores = [new LocalStore(root), new LocalStore(root)];
  const drafts = await Promise.all(
    Array.from({ length: 16 }, (_, i) => stores[i % 2]!.draft()),
  );
  for (const draft of drafts) await Deno.writeTextFile(join(draft.dir, "same.txt"), "same\n");
  const ids = await Promise.all(drafts.map((draft) => draft.commit()));
  assert.equal(new Set(ids).size, 1);
  assert.equal((await stores[0]!.verify(ids[0]!)).intact, true);
  assert.deepEqual([...Deno.readDirSync(join(root, "tmp"))], [], "no drafts left behind");
  await removeTree(root);
});

Deno.test("a writer killed with -9 leaves a draft the next sweep removes at once", async () => {
  const root = await Deno.makeTempDir({ prefix: "csn-store-" });
  const probe = fromFileUrl(new URL("./fixtures/cli/draft_probe.ts", import.meta.url));
  // Both processes run with the stage task's permissions, as a pipeline and its rerun do.
  const command = (mode: string, stdout: "piped" | "null" = "piped") =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", ...taskFlags("shared/cli/stage_main.ts"), probe, mode, root],
      cwd: root,
      stdout,
      stderr: "inherit",
    });
  const sweep = async () =>
    JSON.parse(new TextDecoder().decode((await command("sweep").output()).stdout));
  const writer = command("write").spawn();
  let killed = false;
  try {
    const reader = writer.stdout.getReader();
    assert.equal(new TextDecoder().decode((await reader.read()).value).trim(), "ready");
    reader.releaseLock();
    assert.deepEqual(await sweep(), { swept: 0 }, "a live writer's draft stays");
    writer.kill("SIGKILL");
    killed = true;
    // No wait for the writer's exit status: an unreaped (zombie) writer is dead all the same.
    assert.deepEqual(await sweep(), { swept: 1 });
    assert.deepEqual([...Deno.readDirSync(join(root, "tmp"))], []);
  } finally {
    if (!killed) writer.kill("SIGKILL");
    await writer.status;
    await writer.stdout.cancel().catch(() => {});
    await removeTree(root);
  }
});
