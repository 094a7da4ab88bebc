/**
 * The native backend's fused loss kernels (shared/engine/native/loss_kernel.ts) against a
 * naive float64 loop: the six outputs of tripletLoss within 1e-6 (relative to max(1, |x|)), and
 * the gradients of an objective that weights every output, with respect to the three embedding
 * sets and the mask rows, within 1e-5 of float64 central differences (step 1e-6); then the same
 * gradients against the op-by-op tfjs path on wasm (1e-5), with and without masks.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../shared/engine/backend.ts";
import { probeNative } from "../shared/engine/probe.ts";
import { type LossParts, REFERENCE_LOSS, tripletLoss } from "../shared/model/loss.ts";
import { quiet } from "./support/tiny_model.ts";
import { values } from "./support/values.ts";

const N = 5, D = 6;
const R1 = values(N, 91), R2 = values(N, 92); // weights of distA and distB in the objective

/** Inputs: anchor, far, close, masks (positive: |m| is smooth there). */
function inputs(): Float64Array[] {
  const e = [11, 12, 13].map((s) => Float64Array.from(values(N * D, s)));
  const m = Float64Array.from(values(N * D, 14), (v) => 0.05 + Math.abs(v));
  return [...e, m];
}

function objective(p: { total: number; triplet: number; embed: number; mask: number }) {
  return p.total + 0.3 * p.triplet - 0.2 * p.embed + 0.1 * p.mask;
}

/** The loss in float64, as docs/csn.md states it, and the objective over its outputs. */
function naive(x: readonly Float64Array[], withMasks: boolean) {
  const [a, f, c, m] = x as [Float64Array, Float64Array, Float64Array, Float64Array];
  const w = (k: number) => withMasks ? m[k]! : 1;
  const distA: number[] = [], distB: number[] = [];
  let hinge = 0, extra = 0;
  for (let i = 0; i < N; i++) {
    let sa = 0, sb = 0;
    for (let k = i * D; k < (i + 1) * D; k++) {
      sa += (a[k]! * w(k) - f[k]! * w(k)) ** 2;
      sb += (a[k]! * w(k) - c[k]! * w(k)) ** 2;
    }
    distA.push(Math.sqrt(sa)), distB.push(Math.sqrt(sb));
    hinge += Math.max(0, distB[i]! - distA[i]! + REFERENCE_LOSS.margin);
    extra += R1[i]! * distA[i]! + R2[i]! * distB[i]!;
  }
  const frob = (e: Float64Array) => Math.sqrt(e.reduce((s, v) => s + v * v, 0));
  const embed = (frob(a) + frob(f) + frob(c)) / 3 / Math.sqrt(N);
  const mask = withMasks ? m.reduce((s, v) => s + Math.abs(v), 0) / N : 0;
  const triplet = hinge / N;
  const total = triplet + REFERENCE_LOSS.embed * embed + REFERENCE_LOSS.mask * mask;
  const parts = { total, triplet, embed, mask };
  return { parts, distA, distB, value: objective(parts) + extra };
}

function centralDifferences(x: readonly Float64Array[], withMasks: boolean): Float64Array[] {
  const h = 1e-6;
  return x.slice(0, withMasks ? 4 : 3).map((t) =>
    t.map((v, k) => {
      t[k] = v + h;
      const up = naive(x, withMasks).value;
      t[k] = v - h;
      const down = naive(x, withMasks).value;
      t[k] = v;
      return (up - down) / (2 * h);
    })
  );
}

/** Outputs and the objective's gradients on the current backend. */
function measured(x: readonly Float64Array[], withMasks: boolean) {
  return tf.tidy(() => {
    const t = x.slice(0, withMasks ? 4 : 3).map((v) => tf.tensor2d(Float32Array.from(v), [N, D]));
    let read: { scalars: number[]; distA: Float32Array; distB: Float32Array } | undefined;
    const f = (...args: tf.Tensor[]) => {
      const [anchor, far, close, masks] = args as tf.Tensor2D[];
      const p = tripletLoss({ anchor: anchor!, far: far!, close: close!, masks: masks ?? null });
      read = outputs(p); // tf.grads disposes what f made
      return tf.addN([
        p.total,
        tf.mul(p.triplet, 0.3),
        tf.mul(p.embed, -0.2),
        tf.mul(p.mask, 0.1),
        tf.sum(tf.mul(p.distA, tf.tensor1d(R1))),
        tf.sum(tf.mul(p.distB, tf.tensor1d(R2))),
      ]) as tf.Scalar;
    };
    const grads = tf.grads(f)(t).map((g) => g.dataSync() as Float32Array);
    return { ...read!, grads };
  });
}

function outputs(p: LossParts) {
  const scalars = [p.total, p.triplet, p.embed, p.mask].map((s) => s.dataSync()[0]!);
  const dist = (t: tf.Tensor) => t.dataSync() as Float32Array;
  return { scalars, distA: dist(p.distA), distB: dist(p.distB) };
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!));
    assert.ok(err <= tol, `${what}[${i}]: ${got[i]} vs ${want[i]} (error ${err})`);
  }
}

Deno.test({
  name: "native fused loss: values and gradients against float64 and against tfjs ops",
  ignore: !probeNative().ok && !Deno.env.get("CI"),
  async fn() {
    for (const withMasks of [true, false]) {
      const x = inputs();
      const ref = naive(x, withMasks);
      const active = ref.distB.filter((b, i) => b - ref.distA[i]! + 0.2 > 0).length;
      assert.ok(active > 0 && active < N, "some hinges active, some not");
      await selectBackend("native", quiet);
      const kernels = (await tf.profile(() => tf.tidy(() => measured(x, withMasks)))).kernelNames;
      assert.ok(kernels.includes("NativeTripletLossGrad"), `fused kernels ran: ${kernels}`);
      const ours = measured(x, withMasks);
      const p = ref.parts;
      close(ours.scalars, [p.total, p.triplet, p.embed, p.mask], 1e-6, "loss parts");
      close(ours.distA, ref.distA, 1e-6, "distA");
      close(ours.distB, ref.distB, 1e-6, "distB");
      const fd = centralDifferences(x, withMasks);
      fd.forEach((g, i) => close(ours.grads[i]!, g, 1e-5, `masks=${withMasks} gradient ${i}`));
      await selectBackend("wasm", quiet);
      const ops = measured(x, withMasks);
      ops.grads.forEach((g, i) => close(ours.grads[i]!, g, 1e-5, `vs tfjs ops, gradient ${i}`));
    }
  },
});

Deno.test({
  name: "native fused loss: an input not shaped like anchor throws, nothing left allocated",
  ignore: !probeNative().ok && !Deno.env.get("CI"),
  async fn() {
    await selectBackend("native", quiet);
    const [a, f, c, m] = inputs().map((v) => tf.tensor2d(Float32Array.from(v), [N, D]));
    const short = tf.tensor2d(new Float32Array(N * (D - 1)), [N, D - 1]);
    const cases = [
      { which: "masks", input: { anchor: a!, far: f!, close: c!, masks: short } },
      { which: "far", input: { anchor: a!, far: short, close: c!, masks: m! } },
      { which: "close", input: { anchor: a!, far: f!, close: short, masks: null } },
    ];
    for (const { which, input } of cases) {
      const before = tf.memory().numTensors;
      assert.throws(
        () => tripletLoss(input),
        new RegExp(
          `^RangeError: Cannot compute the triplet loss: ${which} has shape ` +
            `\\[${N}, ${D - 1}\\], expected \\[${N}, ${D}\\]$`,
        ),
      );
      assert.equal(tf.memory().numTensors, before, `${which}: no tensor left behind`);
    }
    tf.dispose([a!, f!, c!, m!, short]);
  },
});
