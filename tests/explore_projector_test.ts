import assert from "node:assert/strict";
import { join } from "node:path";
import { projectorFiles, writeProjector } from "../shared/explore/projector.ts";

// Three images, d = 4; masks: "shape" keeps dims 0-1 (weight 1 and 0.5), "colour" keeps 3.
const input = {
  embeddings: Float32Array.from([0.1, -2, 3, 0.25, 1, 2, 3, 4, -0.5, 0, 1e-8, 7]),
  d: 4,
  masks: Float32Array.from([1, 0.5, 0, 0, 0, 0, -0.3, 2]), // -0.3: ReLU'd away
  notions: [
    { name: "shape", values: ["round", "square"] },
    { name: "colour", values: ["red", "green\tblue"] },
  ],
  labels: { shape: Int32Array.from([1, 0, -1]), colour: Int32Array.from([0, 1, 1]) },
  names: ["a.png", "b.png", "c.png"],
};

Deno.test("projector files have the exact TensorBoard formats", () => {
  const files = projectorFiles(input);
  assert.deepEqual([...files.keys()], [
    "tensors.tsv",
    "tensors_shape.tsv",
    "tensors_colour.tsv",
    "metadata.tsv",
    "projector_config.pbtxt",
  ]);
  assert.equal(files.get("tensors.tsv"), "0.1\t-2\t3\t0.25\n1\t2\t3\t4\n-0.5\t0\t1e-8\t7\n");
  assert.equal(files.get("tensors_shape.tsv"), "0.1\t-1\n1\t1\n-0.5\t0\n");
  assert.equal(files.get("tensors_colour.tsv"), "0.5\n8\n14\n");
  assert.equal(
    files.get("metadata.tsv"),
    "name\tshape\tcolour\na.png\tsquare\tred\nb.png\tround\tgreen blue\nc.png\t\tgreen blue\n",
  );
  assert.equal(
    files.get("projector_config.pbtxt"),
    [
      "embeddings {",
      '  tensor_name: "full"',
      "  tensor_shape: 3",
      "  tensor_shape: 4",
      '  tensor_path: "tensors.tsv"',
      '  metadata_path: "metadata.tsv"',
      "}",
      "embeddings {",
      '  tensor_name: "shape"',
      "  tensor_shape: 3",
      "  tensor_shape: 2",
      '  tensor_path: "tensors_shape.tsv"',
      '  metadata_path: "metadata.tsv"',
      "}",
      "embeddings {",
      '  tensor_name: "colour"',
      "  tensor_shape: 3",
      "  tensor_shape: 1",
      '  tensor_path: "tensors_colour.tsv"',
      '  metadata_path: "metadata.tsv"',
      "}",
      "",
    ].join("\n"),
  );
});

Deno.test("projector values read back as the same float32 numbers", () => {
  const embeddings = Float32Array.from([Math.PI, -1 / 3, 1e-30, 123456.789, 0.1, 2 ** -20]);
  const files = projectorFiles({
    embeddings,
    d: 3,
    masks: new Float32Array(0),
    maskNames: [],
    notions: [],
    labels: {},
  });
  const parsed = files.get("tensors.tsv")!.trim().split("\n").flatMap((line) =>
    line.split("\t").map(Number)
  );
  assert.deepEqual(Float32Array.from(parsed), embeddings);
  // No label columns: a single headerless column, as the projector expects.
  assert.equal(files.get("metadata.tsv"), "0\n1\n");
});

Deno.test("writeProjector writes the files; bad shapes are clear errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const written = await writeProjector(join(dir, "projector"), input);
    assert.equal(written.length, 5);
    assert.equal(
      await Deno.readTextFile(join(dir, "projector", "tensors_shape.tsv")),
      "0.1\t-1\n1\t1\n-0.5\t0\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.throws(() => projectorFiles({ ...input, maskNames: ["one"] }), /1 mask names, expected 2/);
  assert.throws(
    () => projectorFiles({ ...input, labels: { shape: new Int32Array(2) } }),
    /labels "shape" have 2 entries, expected 3/,
  );
});
