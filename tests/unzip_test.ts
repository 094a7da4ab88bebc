import assert from "node:assert/strict";
import { join } from "node:path";
import { zipSync } from "fflate";
import { unzipTo } from "../shared/data/unzip.ts";

const enc = (s: string) => new TextEncoder().encode(s);

async function withTemp(action: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "unzip-test-" });
  try {
    await action(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test("unzipTo extracts stored and deflated entries with spaces in their paths", async () => {
  await withTemp(async (dir) => {
    const big = new Uint8Array(200_000).map((_, i) => (i * 31) % 251);
    const zip = zipSync({
      "ut-zap50k-images/": new Uint8Array(0),
      "ut-zap50k-images/Shoes/Loafers/Bass Weejuns/7.1.jpg": [enc("loafer"), { level: 0 }],
      "ut-zap50k-images/Boots/Ankle/Dr. Martens/8.2.jpg": [big, { level: 9 }],
      "tripletlists/class_tripletlist_train.txt": enc("0 1 2\n"),
    });
    await Deno.writeFile(join(dir, "a.zip"), zip);
    const out = join(dir, "out");
    const written = await unzipTo(join(dir, "a.zip"), out);
    assert.deepEqual(written, [
      "ut-zap50k-images/Shoes/Loafers/Bass Weejuns/7.1.jpg",
      "ut-zap50k-images/Boots/Ankle/Dr. Martens/8.2.jpg",
      "tripletlists/class_tripletlist_train.txt",
    ]);
    assert.equal(
      await Deno.readTextFile(join(out, "ut-zap50k-images/Shoes/Loafers/Bass Weejuns/7.1.jpg")),
      "loafer",
    );
    assert.deepEqual(
      await Deno.readFile(join(out, "ut-zap50k-images/Boots/Ankle/Dr. Martens/8.2.jpg")),
      big,
    );
  });
});

Deno.test("unzipTo refuses an entry escaping the destination before writing anything", async () => {
  for (const evil of ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "..\\evil.txt"]) {
    await withTemp(async (dir) => {
      // The safe entry comes first: it must not be written either.
      const zip = zipSync({ "good/first.txt": enc("ok"), [evil]: enc("pwned") });
      await Deno.writeFile(join(dir, "evil.zip"), zip);
      const out = join(dir, "out");
      await assert.rejects(
        () => unzipTo(join(dir, "evil.zip"), out),
        (e: Error) =>
          e.message.includes(`entry "${evil}"`) && /nothing was written/.test(e.message),
      );
      assert.equal(await exists(out), false, `${evil}: destination was created`);
      assert.equal(await exists(join(dir, "evil.txt")), false);
    });
  }
});

Deno.test("unzipTo accepts a `..` that stays inside the destination", async () => {
  await withTemp(async (dir) => {
    await Deno.writeFile(join(dir, "a.zip"), zipSync({ "a/../b.txt": enc("b") }));
    assert.deepEqual(await unzipTo(join(dir, "a.zip"), join(dir, "out")), ["b.txt"]);
    assert.equal(await Deno.readTextFile(join(dir, "out", "b.txt")), "b");
  });
});

Deno.test("unzipTo detects a corrupt entry (CRC) and a non-zip file", async () => {
  await withTemp(async (dir) => {
    const zip = zipSync({ "x.txt": [enc("hello world, hello zip"), { level: 0 }] });
    const at = zip.indexOf("h".charCodeAt(0), 30); // first data byte of the stored entry
    zip[at] = zip[at]! ^ 0xff;
    await Deno.writeFile(join(dir, "bad.zip"), zip);
    await assert.rejects(
      () => unzipTo(join(dir, "bad.zip"), join(dir, "o")),
      /"x\.txt" is corrupt/,
    );
    await Deno.writeFile(join(dir, "text.zip"), enc("not a zip at all"));
    await assert.rejects(
      () => unzipTo(join(dir, "text.zip"), join(dir, "o2")),
      /Cannot read zip ".*text\.zip": no end-of-central-directory/,
    );
  });
});
