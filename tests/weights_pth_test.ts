/**
 * The PyTorch checkpoint reader against values PyTorch itself computed
 * (tests/fixtures/pth/make_fixture.py wrote the .pth files and expected.json).
 */
import assert from "node:assert/strict";
import { unzipSync, zipSync } from "fflate";
import { createHash } from "node:crypto";
import { fromFileUrl } from "../shared/util/file_url_path.ts";
import { selectBackend } from "../shared/engine/backend.ts";
import { CsnModel } from "../shared/model/csn.ts";
import { PyGlobal, unpickle } from "../shared/weights/pickle.ts";
import { loadPretrained } from "../shared/train/pretrained.ts";
import { readPth } from "../shared/weights/pth.ts";
import type { SafeTensor } from "../shared/weights/dtype.ts";
import { exportState, importState } from "../shared/weights/state_dict.ts";
import { serveFiles } from "./loopback_server.ts";

const DIR = fromFileUrl(new URL("./fixtures/pth/", import.meta.url));
const quiet = () => {};

interface Expected {
  dtype: string;
  shape: number[];
  sha256: string;
  sum: number | string;
  first: (number | string | boolean)[];
  contiguous_in_file: boolean;
}
const EXPECTED = JSON.parse(await Deno.readTextFile(`${DIR}expected.json`)) as Record<
  string,
  Record<string, Expected>
>;
const DTYPES: Record<string, string> = {
  float32: "F32",
  float64: "F64",
  float16: "F32", // widened, exactly
  int64: "I64",
  uint8: "U8",
  bool: "U8",
};

async function read(name: string): Promise<Map<string, SafeTensor>> {
  return readPth(await Deno.readFile(DIR + name), name);
}

function bytesOf(t: SafeTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/** dtype, shape, every byte (sha256), first values (exact) and the float64 sum. */
function checkAgainstTorch(file: string, tensors: Map<string, SafeTensor>): void {
  const expected = EXPECTED[file]!;
  assert.deepEqual([...tensors.keys()].sort(), Object.keys(expected).sort());
  for (const [name, e] of Object.entries(expected)) {
    const t = tensors.get(name)!;
    assert.equal(t.dtype, DTYPES[e.dtype], name);
    assert.deepEqual(t.shape, e.shape, name);
    assert.equal(t.data.length, e.shape.reduce((a, b) => a * b, 1), name);
    assert.equal(createHash("sha256").update(bytesOf(t)).digest("hex"), e.sha256, `${name} bytes`);
    const first = [...t.data.slice(0, 4)].map((v) =>
      typeof v === "bigint" ? v.toString() : e.dtype === "bool" ? v === 1 : v
    );
    assert.deepEqual(first, e.first, `${name} first values`);
    if (t.data instanceof BigInt64Array) {
      let sum = 0n; // int64 wraps as in PyTorch
      for (const v of t.data) sum = BigInt.asIntN(64, sum + v);
      assert.equal(sum.toString(), e.sum, `${name} sum`);
    } else {
      let sum = 0;
      for (const v of t.data as Float32Array | Float64Array | Uint8Array) sum += v;
      // float64 sums of the same values differ only by summation order.
      const tol = 1e-12 * Math.max(1, Math.abs(e.sum as number));
      assert.ok(Math.abs(sum - (e.sum as number)) <= tol, `${name} sum ${sum} vs ${e.sum}`);
    }
  }
}

Deno.test("readPth: a resnet18-named state_dict equals PyTorch's values bit for bit", async () => {
  const tensors = await read("resnet_w4.pth");
  assert.equal(tensors.size, 92);
  checkAgainstTorch("resnet_w4.pth", tensors);
  // File order is the module's order, as torchvision's state_dict keys.
  assert.deepEqual([...tensors.keys()].slice(0, 3), ["conv1.weight", "bn1.weight", "bn1.bias"]);
  assert.deepEqual(tensors.get("layer2.0.downsample.0.weight")!.shape, [8, 4, 1, 1]);
});

Deno.test("readPth: views are materialised in C order; checkpoint dicts give their state_dict", async () => {
  const tensors = await read("views.pth");
  checkAgainstTorch("views.pth", tensors);
  assert.equal(EXPECTED["views.pth"]!.transposed!.contiguous_in_file, false);
  // Naive reference: transposed[i][j] = base[j][i], sliced[i][j] = base[1 + i][2 * j].
  const base = tensors.get("base")!.data as Float32Array;
  const tr = tensors.get("transposed")!.data as Float32Array;
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 3; j++) assert.equal(tr[i * 3 + j], base[j * 4 + i]);
  }
  const sl = tensors.get("sliced")!.data as Float32Array;
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 2; j++) assert.equal(sl[i * 2 + j], base[(1 + i) * 4 + 2 * j]);
  }
  // Views of one storage are separate copies.
  assert.notEqual(tr.buffer, base.buffer);
  assert.equal((tensors.get("int64")!.data as BigInt64Array)[0], 2n ** 62n + 1n);
});

Deno.test("readPth: a big-endian archive (byteorder entry) reads as the little-endian one", async () => {
  const files = unzipSync(await Deno.readFile(`${DIR}resnet_w4.pth`));
  for (const [name, raw] of Object.entries(files)) {
    if (!name.startsWith("resnet_w4/data/")) continue;
    // The 8-byte storages are the int64 num_batches_tracked scalars, the rest float32.
    const width = raw.length === 8 ? 8 : 4;
    for (let i = 0; i < raw.length; i += width) raw.subarray(i, i + width).reverse();
  }
  files["resnet_w4/byteorder"] = new TextEncoder().encode("big");
  const big = readPth(zipSync(files, { level: 0 }), "big.pth");
  const little = await read("resnet_w4.pth");
  assert.deepEqual([...big.keys()], [...little.keys()]);
  for (const [name, t] of little) assert.deepEqual(bytesOf(big.get(name)!), bytesOf(t), name);
});

Deno.test("readPth: bad files give errors naming the file and the problem", async () => {
  const good = await Deno.readFile(`${DIR}resnet_w4.pth`);
  assert.throws(
    () => readPth(good.subarray(0, 5000), "cut.pth"),
    /Cannot read PyTorch checkpoint "cut.pth": the zip archive is corrupt/,
  );
  assert.throws(
    () => readPth(new TextEncoder().encode("<html>not found</html>"), "page.pth"),
    /"page.pth": it is not a zip archive \(starts with 3c 68 74 6d\)/,
  );
  assert.throws(() => readPth(new Uint8Array(), "empty.pth"), /"empty.pth": it is not a zip/);
  await assert.rejects(
    () => read("unknown_global.pth"),
    (e: Error) =>
      e instanceof TypeError && e.message.includes('"unknown_global.pth"') &&
      e.message.includes('Python global "argparse.Namespace"'),
  );
  await assert.rejects(() => read("legacy.pth"), /"legacy.pth": it is in the legacy \(pre-1.6/);
});

Deno.test("unpickle: opcodes beyond torch's usual set, and malformed input", () => {
  const hooks = {
    findGlobal: (m: string, n: string) => new PyGlobal(`${m}.${n}`, (a) => a.length),
    persistentLoad: (pid: unknown) => ["loaded", pid],
  };
  // PROTO 2, MARK, LONG1 -2 (0xfe), LONG1 2^64 (9 bytes), BINFLOAT 1.5, NONE, NEWTRUE,
  // SHORT_BINBYTES "ab", TUPLE, BINPUT 0, POP, BINGET 0, STOP.
  const ok = Uint8Array.of(
    0x80,
    2,
    0x28,
    0x8a,
    1,
    0xfe,
    0x8a,
    9,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1, //
    0x47,
    0x3f,
    0xf8,
    0,
    0,
    0,
    0,
    0,
    0,
    0x4e,
    0x88,
    0x43,
    2,
    0x61,
    0x62, //
    0x74,
    0x71,
    0,
    0x30,
    0x68,
    0,
    0x2e,
  );
  const v = unpickle(ok, hooks, "ok.pkl") as unknown[];
  assert.deepEqual(v, [-2, 2n ** 64n, 1.5, null, true, Uint8Array.of(0x61, 0x62)]);
  // GLOBAL + REDUCE calls the hook's function; BINPERSID goes to persistentLoad.
  const call = Uint8Array.of(
    0x80,
    2,
    0x63,
    ...new TextEncoder().encode("m\nf\n"),
    0x4b,
    7,
    0x4b,
    8,
    0x86,
    0x52, //
    0x4b,
    5,
    0x51,
    0x86,
    0x2e,
  );
  assert.deepEqual(unpickle(call, hooks, "call.pkl"), [2, ["loaded", 5]]);
  assert.throws(
    () => unpickle(Uint8Array.of(0x80, 2, 0x49), hooks, "t.pkl"),
    /"?t.pkl.*opcode INT/,
  );
  assert.throws(
    () => unpickle(Uint8Array.of(0x80, 2, 0x58, 9, 0), hooks, "s.pkl"),
    /ends 2 bytes early/,
  );
  assert.throws(() => unpickle(Uint8Array.of(0x80, 2, 0x68, 4), hooks, "m.pkl"), /memo entry 4/);
  assert.throws(() => unpickle(Uint8Array.of(0x80, 2, 0x30), hooks, "p.pkl"), /stack is empty/);
});

Deno.test("importState: the fixture fills a width-4 CSN backbone, fc.* is reported skipped", async () => {
  await selectBackend("cpu", quiet);
  const tensors = await read("resnet_w4.pth");
  const model = new CsnModel({
    mode: "csn",
    masks: "fixed",
    nConditions: 4,
    backbone: { inChannels: 3, inputSize: 32, width: 4, embedDim: 64 },
    seed: 1,
  });
  try {
    const report = importState(model, tensors, { strict: false, source: "resnet_w4.pth" });
    assert.deepEqual(report.skipped.sort(), ["fc.bias: unknown", "fc.weight: unknown"]);
    assert.deepEqual(report.missing.sort(), ["fc_embed.bias", "fc_embed.weight", "masks.weight"]);
    assert.equal(report.loaded.length, 90);
    // Exported back in PyTorch layout, every loaded tensor is the file's, bit for bit.
    const back = await exportState(model);
    for (const name of report.loaded) {
      assert.deepEqual(bytesOf(back.get(name)!), bytesOf(tensors.get(name)!), name);
    }
    assert.equal((back.get("layer3.1.bn2.num_batches_tracked")!.data as BigInt64Array)[0], 3n);
    assert.throws(
      () => importState(model, tensors, { strict: true, source: "resnet_w4.pth" }),
      /Cannot load weights from resnet_w4.pth: fc_embed.weight: missing/,
    );
  } finally {
    model.dispose();
  }
});

Deno.test("loadPretrained: local path, and a URL downloaded once (then revalidated) with its name's hash checked", async () => {
  const bytes = await Deno.readFile(`${DIR}resnet_w4.pth`);
  const sha = createHash("sha256").update(bytes).digest("hex");
  const good = `resnet_w4-${sha.slice(0, 8)}.pth`;
  const served = serveFiles({ [good]: bytes, "resnet_w4-00000000.pth": bytes }, { etags: true });
  const cache = await Deno.makeTempDir({ prefix: "pth_test_" });
  const logs: string[] = [];
  try {
    const local = await loadPretrained(`${DIR}resnet_w4.pth`, cache, quiet);
    const remote = await loadPretrained(served.url(good), cache, (m) => logs.push(m));
    assert.deepEqual([...remote.keys()], [...local.keys()]);
    assert.deepEqual(bytesOf(remote.get("conv1.weight")!), bytesOf(local.get("conv1.weight")!));
    await loadPretrained(served.url(good), cache, (m) => logs.push(m));
    // The second use revalidates the cached copy (no sha256 pinned): a conditional GET, 304.
    const asked = served.requests.filter((r) => r.path === `/${good}`);
    assert.deepEqual(asked.map((r) => r.ifNoneMatch !== null), [false, true], "revalidated");
    assert.ok(logs.some((l) => l.includes("is unchanged (server said 304)")), logs.join("\n"));
    assert.ok(logs.some((l) => l.includes("pretrained: 92 tensors")), logs.join("\n"));
    await assert.rejects(
      () => loadPretrained(served.url("resnet_w4-00000000.pth"), cache, quiet),
      /promises a sha256 starting 00000000/,
    );
    await assert.rejects(
      () => loadPretrained(`${cache}/absent.pth`, cache, quiet),
      /Cannot read pretrained weights ".*absent.pth"/,
    );
  } finally {
    await served.close();
    await Deno.remove(cache, { recursive: true });
  }
});
