/** shared/model/loss.ts: loss parts and triplet accuracy against a float64 per-triplet loop. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { REFERENCE_LOSS, tripletAccuracy, tripletLoss } from "../shared/model/loss.ts";
import { maxAbsDiff, quiet } from "./support/tiny_model.ts";
import { values } from "./support/values.ts";

Deno.test("loss and accuracy equal a float64 per-triplet loop (tolerance 1e-5)", async () => {
  await selectBackend("wasm", quiet);
  const n = 5, d = 6;
  const e = [values(n * d, 11), values(n * d, 12), values(n * d, 13)];
  const m = values(n * d, 14).map((v) => Math.max(v, 0)); // ReLU'd mask rows
  for (const withMasks of [true, false]) {
    const got = tf.tidy(() => {
      const t = (a: Float32Array) => tf.tensor2d(a, [n, d]);
      const p = tripletLoss({
        anchor: t(e[0]!),
        far: t(e[1]!),
        close: t(e[2]!),
        masks: withMasks ? t(m) : null,
      });
      return [p.total, p.triplet, p.embed, p.mask, p.distA, p.distB].map((x) =>
        Array.from(x.dataSync())
      );
    }) as unknown as number[][];
    // naive
    const mk = (k: number, i: number, j: number) =>
      e[k]![i * d + j]! * (withMasks ? m[i * d + j]! : 1);
    const distA: number[] = [], distB: number[] = [];
    let hinge = 0;
    for (let i = 0; i < n; i++) {
      let sa = 0, sb = 0;
      for (let j = 0; j < d; j++) {
        sa += (mk(0, i, j) - mk(1, i, j)) ** 2;
        sb += (mk(0, i, j) - mk(2, i, j)) ** 2;
      }
      distA.push(Math.sqrt(sa));
      distB.push(Math.sqrt(sb));
      hinge += Math.max(0, Math.sqrt(sb) - Math.sqrt(sa) + 0.2);
    }
    const frob = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
    const embed = (frob(e[0]!) + frob(e[1]!) + frob(e[2]!)) / 3 / Math.sqrt(n);
    const mask = withMasks ? m.reduce((s, v) => s + Math.abs(v), 0) / n : 0;
    const triplet = hinge / n;
    const total = triplet + 5e-3 * embed + 5e-4 * mask;
    const want = [[total], [triplet], [embed], [mask], distA, distB];
    want.forEach((w, k) => {
      assert.ok(maxAbsDiff(got[k]!, w) < 1e-5, `masks=${withMasks} part ${k}: ${got[k]} vs ${w}`);
    });
    assert.ok(distA.some((a, i) => a > distB[i]!) && distA.some((a, i) => a <= distB[i]!));
  }
  const acc = tripletAccuracy([3, 1, 2, 5], [1, 2, 2, 4], [0, 1, 1, 0], 3);
  assert.equal(acc.accuracy, 0.5); // 3>1 yes, 1>2 no, 2>2 no (strict), 5>4 yes
  assert.deepEqual(acc.perCondition.map((p) => [p.correct, p.count]), [[2, 2], [0, 2], [0, 0]]);
  assert.ok(Number.isNaN(acc.perCondition[2]!.accuracy));
  assert.equal(REFERENCE_LOSS.margin, 0.2);
});
