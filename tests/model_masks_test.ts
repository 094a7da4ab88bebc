/** shared/model/masks.ts: fixed disjoint blocks, prein, learned init, the one-hot row lookup. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { disjointMasks, Masks } from "../shared/model/masks.ts";
import { quiet } from "./support/tiny_model.ts";

Deno.test("masks: fixed disjoint blocks, prein, learned init, n > d rejected", async () => {
  await selectBackend("cpu", quiet);
  const fixed = disjointMasks(4, 10);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 10; j++) {
      const want = j >= i * 2 && j < (i + 1) * 2 ? 1 : 0; // floor(10/4) = 2 dims each
      assert.equal(fixed[i * 10 + j], want, `fixed[${i}][${j}]`);
    }
  }
  const prein = new Masks("prein", 4, 10, 1);
  assert.deepEqual(Array.from(await prein.values()), Array.from(disjointMasks(4, 10, 0.1)));
  const learned = new Masks("learned", 16, 64, 1);
  const raw = learned.tensor.variable.dataSync() as Float32Array;
  const mean = raw.reduce((a, b) => a + b, 0) / raw.length;
  const sd = Math.sqrt(raw.reduce((a, b) => a + (b - mean) ** 2, 0) / raw.length);
  assert.ok(Math.abs(mean - 0.9) < 0.1 && Math.abs(sd - 0.7) < 0.1, `N(0.9,0.7)? ${mean} ${sd}`);
  const used = await learned.values();
  assert.ok(used.every((v, i) => v === Math.max(raw[i]!, 0)), "ReLU applied");
  // rows(): one-hot lookup equals the ReLU'd row
  const rows = learned.rows([3, 0, 3]).arraySync();
  assert.deepEqual(rows[0], Array.from(used.slice(3 * 64, 4 * 64)));
  assert.deepEqual(rows[1], Array.from(used.slice(0, 64)));
  assert.throws(() => new Masks("fixed", 65, 64, 1), /65 conditions .* 64-dimensional/);
  assert.throws(() => learned.rows([16]), /condition 16 is not in 0..15/);
  tf.dispose([prein.tensor.variable, learned.tensor.variable]);
});
