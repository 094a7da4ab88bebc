/**
 * The README's numpy shard reader, taken from the README itself and run by Debian's
 * /usr/bin/python3 (python3-numpy, installed by .ci/install.sh) against a shard folder
 * written here: every image, label and triplet must equal what was written.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { DecodedDataset } from "../shared/data/dataset.ts";
import { Rng } from "../shared/util/rng.ts";
import { memoryRecordSource, writeShards } from "../shared/data/shards/writer.ts";
import { LocalStore } from "../shared/store/local_store.ts";
import { removeTree } from "../shared/util/fs.ts";
import { REPO } from "./support/cli.ts";

const PYTHON = "/usr/bin/python3";

/** The python block that follows the README's "Reading shards from Python" heading. */
async function readmeReader(): Promise<string> {
  const readme = await Deno.readTextFile(join(REPO, "README.md"));
  const at = readme.indexOf("#### Reading shards from Python");
  assert.ok(at >= 0, "README has a 'Reading shards from Python' section");
  const block = /```python\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, "the section has a python code block");
  return block[1]!;
}

const CHECK = `
import json, sys
index, image, labels, triplets = open_shards(sys.argv[1])
out = {
    "count": index["count"],
    "images": [image(i).astype("int64").ravel().tolist() for i in range(index["count"])],
    "shape": list(image(0).shape),
    "writable": bool(image(0).flags.writeable),
    "labels": {k: v.tolist() for k, v in labels.items()},
    "triplets": {k: v.tolist() for k, v in triplets.items()},
}
try:
    image(index["count"])
except IndexError as e:
    out["outside"] = str(e)
print(json.dumps(out))
`;

async function python(args: string[]) {
  const out = await new Deno.Command(PYTHON, { args, stdout: "piped", stderr: "piped" }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("the README's numpy reader reads back every image, label and triplet", async () => {
  const numpy = await python(["-c", "import numpy"]);
  assert.equal(numpy.code, 0, `python3-numpy is missing (run .ci/install.sh): ${numpy.stderr}`);
  const dir = await Deno.makeTempDir({ prefix: "shards_python_" });
  try {
    const [H, W, C, COUNT] = [4, 6, 3, 21] as const;
    const rng = new Rng(3);
    const pixels = Uint8Array.from({ length: COUNT * H * W * C }, () => rng.int(256));
    const quads = (n: number) =>
      Int32Array.from({ length: n * 4 }, (_, i) => rng.int(i % 4 === 3 ? 2 : COUNT));
    const ds: DecodedDataset = {
      dataset: "synthetic",
      height: H,
      width: W,
      channels: C,
      names: Array.from({ length: COUNT }, (_, i) => `img ${i}.png`),
      pixels,
      notions: [{ name: "colour", values: ["red", "green"] }, { name: "shape", values: [] }],
      labels: { colour: Int32Array.from({ length: COUNT }, (_, i) => (i % 3) - 1) },
      triplets: { train: quads(9), val: quads(4), test: quads(0) },
      report: { skipped: [] },
    };
    // Into a store laid out as a project's (data/store), then found where the README says.
    const store = new LocalStore(join(dir, "data", "store"));
    const draft = await store.draft();
    await writeShards(memoryRecordSource(pixels, H * W * C), ds, draft.dir, {
      recordsPerShard: 8,
    });
    const id = await draft.commit();
    const readme = await Deno.readTextFile(join(REPO, "README.md"));
    const example = /open_shards\("(data\/store\/objects\/<id>\/files)"\)/.exec(readme);
    assert.ok(example, "the README's example names the store folder of a shards artefact");
    assert.match(
      readme,
      /`<id>` is `stages\.shard\.outputs\.shards` in `runs\/NAME\/record\.json`/,
    );
    const folder = join(dir, example[1]!.replace("<id>", id));
    const script = join(dir, "check.py");
    await Deno.writeTextFile(script, (await readmeReader()) + CHECK);
    const run = await python([script, folder]);
    assert.equal(run.code, 0, run.stderr);
    const got = JSON.parse(run.stdout);
    assert.equal(got.count, COUNT);
    assert.deepEqual(got.shape, [H, W, C]);
    assert.equal(got.writable, false, "memory-mapped read-only");
    const size = H * W * C;
    got.images.forEach((image: number[], i: number) => {
      assert.deepEqual(image, [...pixels.subarray(i * size, (i + 1) * size)], `image ${i}`);
    });
    assert.deepEqual(got.labels, { colour: [...ds.labels.colour!] });
    for (const split of ["train", "val", "test"] as const) {
      const t = ds.triplets[split];
      const rows = Array.from(
        { length: t.length / 4 },
        (_, i) => [...t.subarray(i * 4, i * 4 + 4)],
      );
      assert.deepEqual(got.triplets[split], rows, split);
    }
    assert.equal(got.outside, "image 21 is outside [0, 21)");
    // A folder of another format is refused, naming the file.
    const index = JSON.parse(await Deno.readTextFile(join(folder, "index.json")));
    const other = join(dir, "other");
    await Deno.mkdir(other);
    await Deno.writeTextFile(
      join(other, "index.json"),
      JSON.stringify({ ...index, format: "x/9" }),
    );
    const bad = await python([script, other]);
    assert.notEqual(bad.code, 0);
    assert.match(
      bad.stderr,
      /ValueError: Cannot read .*index\.json: format 'x\/9', expected 'csn-shards\/1'/,
    );
  } finally {
    await removeTree(dir); // the committed artefact is read-only
  }
});
