/**
 * Whether activations kept in oneDNN's channel-blocked layout (nChw16c) between layers would
 * pay: each convolution of the paper112 backbone (forward, backward-data, backward-weights) as
 * a bare oneDNN primitive on buffers already in its layout, activations NHWC (what csn runs),
 * nChw16c, or `any` (oneDNN's own pick), one thread, the fastest of `--reps` calls; then the
 * sum over one micro-batch of a training step (three backbone passes). Reorders are left out:
 * this is the most a blocked pipeline could gain. A primitive that falls to oneDNN's reference
 * kernel is named, and timed once only (it is hundreds of times slower): the first convolution
 * with the 3-channel image in NHWC and a blocked output.
 *
 *   deno run -A bench/conv_layouts.ts [--precision=fp32|bf16] [--batch=8] [--reps=15]
 */
import { parseArgs } from "node:util";
import { nativeContext } from "../shared/engine/native/context.ts";
import {
  ALG,
  ARG,
  DATA_F32,
  PROP,
  QUERY,
  STRUCT_BYTES,
  TAG,
} from "../shared/engine/native/dnnl_abi.ts";
import { Primitive } from "../shared/engine/native/primitive.ts";
import { DATA_BF16 } from "../shared/engine/native/conv_precision.ts";
import type { Pointer } from "../shared/engine/native/dnnl.ts";

/** dnnl_format_tag_t's nChw16c (aBcd16b) in oneDNN 2.6. */
const TAG_NCHW16C = 69;
const LAYOUTS = { nhwc: TAG.nhwc, nChw16c: TAG_NCHW16C, any: TAG.any } as const;

/** The backbone's convolutions at 112x112: input side, in and out channels, kernel, stride,
 * padding, and how many run in one micro-batch (3 passes: anchor, far, close). */
const CONVS = [
  { h: 112, ci: 3, co: 64, k: 7, s: 2, p: 3, count: 3 },
  { h: 28, ci: 64, co: 64, k: 3, s: 1, p: 1, count: 12 },
  { h: 28, ci: 64, co: 128, k: 3, s: 2, p: 1, count: 3 },
  { h: 28, ci: 64, co: 128, k: 1, s: 2, p: 0, count: 3 },
  { h: 14, ci: 128, co: 128, k: 3, s: 1, p: 1, count: 9 },
  { h: 14, ci: 128, co: 256, k: 3, s: 2, p: 1, count: 3 },
  { h: 14, ci: 128, co: 256, k: 1, s: 2, p: 0, count: 3 },
  { h: 7, ci: 256, co: 256, k: 3, s: 1, p: 1, count: 9 },
] as const;

type Conv = (typeof CONVS)[number];
const KINDS = ["forward", "backward-data", "backward-weights"] as const;
type Kind = (typeof KINDS)[number];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    precision: { type: "string", default: "fp32" },
    batch: { type: "string", default: "8" },
    reps: { type: "string", default: "15" },
  },
});
if (values.precision !== "fp32" && values.precision !== "bf16") {
  throw new RangeError(`Cannot read --precision "${values.precision}": expected fp32 or bf16`);
}
const n = Number(values.batch), reps = Number(values.reps);
const compute = values.precision === "bf16" ? DATA_BF16 : DATA_F32;
const { dnnl } = nativeContext();
dnnl.setThreads(1);

/** The primitive of `kind` for `c`, activations in `tag`; the 3-channel image (no 16-channel
 * blocks) in `imageTag`: NHWC as tfjs holds it, or oneDNN's pick for a blocked pipeline. */
function build(
  c: Conv,
  kind: Kind,
  tag: number,
  imageTag: number = tag === TAG.nhwc ? TAG.nhwc : TAG.any,
): { pd: Pointer; primitive: Pointer } {
  const o = Math.floor((c.h + 2 * c.p - c.k) / c.s) + 1;
  const srcTag = c.ci % 16 ? imageTag : tag;
  const md = (dims: number[], t: number, type = compute) => dnnl.desc(dims, t, type);
  const src = [n, c.ci, c.h, c.h], wei = [c.co, c.ci, c.k, c.k], dst = [n, c.co, o, o];
  const st = BigInt64Array.of(BigInt(c.s), BigInt(c.s));
  const pad = BigInt64Array.of(BigInt(c.p), BigInt(c.p));
  const forward = new Uint8Array(STRUCT_BYTES.opDesc);
  dnnl.check(
    "dnnl_convolution_forward_desc_init",
    dnnl.fn.dnnl_convolution_forward_desc_init(
      forward,
      PROP.forwardTraining,
      ALG.convolutionDirect,
      md(src, srcTag),
      md(wei, TAG.any),
      null,
      md(dst, tag, DATA_F32),
      st,
      pad,
      pad,
    ),
  );
  const hint = dnnl.primitive(forward);
  if (kind === "forward") return hint;
  const desc = new Uint8Array(STRUCT_BYTES.opDesc);
  if (kind === "backward-data") {
    dnnl.check(
      "dnnl_convolution_backward_data_desc_init",
      dnnl.fn.dnnl_convolution_backward_data_desc_init(
        desc,
        ALG.convolutionDirect,
        md(src, srcTag, DATA_F32),
        md(wei, TAG.any),
        md(dst, tag),
        st,
        pad,
        pad,
      ),
    );
  } else {
    dnnl.check(
      "dnnl_convolution_backward_weights_desc_init",
      dnnl.fn.dnnl_convolution_backward_weights_desc_init(
        desc,
        ALG.convolutionDirect,
        md(src, srcTag),
        md(wei, TAG.any, DATA_F32),
        null,
        md(dst, tag),
        st,
        pad,
        pad,
      ),
    );
  }
  return dnnl.primitive(desc, { hint: hint.pd });
}

const ARGS: Record<Kind, [number, number][]> = {
  forward: [[ARG.src, QUERY.srcMd], [ARG.weights, QUERY.weightsMd], [ARG.dst, QUERY.dstMd]],
  "backward-data": [
    [ARG.diffDst, QUERY.diffDstMd],
    [ARG.weights, QUERY.weightsMd],
    [ARG.diffSrc, QUERY.diffSrcMd],
  ],
  "backward-weights": [
    [ARG.src, QUERY.srcMd],
    [ARG.diffDst, QUERY.diffDstMd],
    [ARG.diffWeights, QUERY.diffWeightsMd],
  ],
};

/** The fastest of `reps` runs on buffers in the primitive's own layouts (ms), or null for
 * oneDNN's reference kernel. */
function time(
  c: Conv,
  kind: Kind,
  tag: number,
  imageTag?: number,
  calls = reps,
): { ms: number | null; impl: string } {
  const { pd, primitive } = build(c, kind, tag, imageTag);
  const mds = ARGS[kind].map(([, q]) => dnnl.queryMd(pd, q)!);
  const prim = new Primitive(
    dnnl,
    primitive,
    pd,
    ARGS[kind].map(([arg], i) => ({ arg, md: mds[i]! })),
  );
  const impl = prim.implementation;
  if (impl.startsWith("ref") && calls === reps) return { ms: null, impl };
  const buffers = mds.map((m) => {
    const bytes = new Uint8Array(Number(dnnl.fn.dnnl_memory_desc_get_size(m)));
    for (let i = 0; i < bytes.length; i += 2) bytes[i] = (i * 7) & 63; // small finite values
    return bytes;
  });
  const addresses = buffers.map((b) => dnnl.addressOf(b));
  if (calls === reps) prim.execute(addresses); // warm-up
  let best = Infinity;
  for (let i = 0; i < calls; i++) {
    const start = performance.now();
    prim.execute(addresses);
    best = Math.min(best, performance.now() - start);
  }
  return { ms: best, impl };
}

const totals = new Map<string, number>();
console.log(
  `| conv (batch ${n}, ${values.precision}) | kind | ${Object.keys(LAYOUTS).join(" | ")} |`,
);
for (const c of CONVS) {
  for (const kind of KINDS) {
    if (kind === "backward-data" && c.ci === 3) continue; // the image needs no gradient
    const cells = Object.entries(LAYOUTS).map(([name, tag]) => {
      const { ms, impl } = time(c, kind, tag);
      const key = `${kind} ${name}`;
      totals.set(key, (totals.get(key) ?? 0) + (ms ?? NaN) * c.count);
      return ms === null ? `(${impl})` : `${ms.toFixed(3)} ms ${impl}`;
    });
    console.log(
      `| ${c.h}x${c.h}x${c.ci} -> ${c.co} k${c.k} s${c.s} | ${kind} | ${cells.join(" | ")} |`,
    );
  }
}
// A blocked pipeline that kept the image NHWC: oneDNN 2.6 has only its reference kernel.
for (const kind of ["forward", "backward-weights"] as const) {
  const { ms, impl } = time(CONVS[0], kind, TAG_NCHW16C, TAG.nhwc, 1);
  console.log(`conv1 ${kind}, NHWC image -> nChw16c: ${impl}, ${ms!.toFixed(0)} ms (one call)`);
}
const { isa, version } = dnnl.info;
console.log(
  `one micro-batch (ms, sum of count x fastest call), oneDNN ${version} ${isa}, 1 thread:`,
);
for (const kind of KINDS) {
  const cells = Object.keys(LAYOUTS).map((name) =>
    `${name} ${totals.get(`${kind} ${name}`)!.toFixed(1)}`
  );
  console.log(`  ${kind}: ${cells.join(", ")}`);
}
