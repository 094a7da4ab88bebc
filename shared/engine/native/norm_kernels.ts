/**
 * Batch normalisation in training mode on oneDNN, forward and backward as one op each, with
 * the ReLU that follows it fused in when asked (oneDNN then keeps a bit mask in a workspace
 * that the backward pass reads). Statistics over N, H and W per channel; variance biased, as
 * PyTorch normalises with. The forward kernel also returns the updated running statistics, and
 * hands the backward one tensor (bn_stats.ts) with the batch statistics and the workspace.
 * With `sets` > 1 the batch is that many image sets, each normalised with its own statistics
 * (bn_sets.ts): one call where a pass per set would make one each.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { ARG, BN_FLAGS, PROP, QUERY, STRUCT_BYTES, TAG } from "./dnnl_abi.ts";
import { nativeContext } from "./context.ts";
import { Primitive } from "./primitive.ts";
import { addresses, asHeapBackend, heapFloats, nchwDims } from "./heap.ts";
import { statsAddresses, statsLayout, writeRunningStats } from "./bn_stats.ts";
import { PartialGrads, setGeometry } from "./bn_sets.ts";
import { NATIVE } from "../choices.ts";

export const NATIVE_BATCH_NORM = "NativeBatchNormTrain";
export const NATIVE_BATCH_NORM_GRAD = "NativeBatchNormGrad";

export interface NormAttrs extends NamedAttrMap {
  readonly eps: number;
  readonly relu: boolean;
  /** Image sets in the batch, each with its own statistics. */
  readonly sets: number;
}

/** The forward kernel's: how far the running statistics move towards the batch's. */
export interface NormTrainAttrs extends NormAttrs {
  readonly momentum: number;
}

function flags(relu: boolean): number {
  return BN_FLAGS.useScale | BN_FLAGS.useShift | (relu ? BN_FLAGS.fuseNormRelu : 0);
}

function forwardDesc(shape: readonly number[], a: NormAttrs): Uint8Array {
  const { dnnl } = nativeContext();
  const desc = new Uint8Array(STRUCT_BYTES.opDesc);
  dnnl.check(
    "dnnl_batch_normalization_forward_desc_init",
    dnnl.fn.dnnl_batch_normalization_forward_desc_init(
      desc,
      PROP.forwardTraining,
      dnnl.desc(nchwDims(shape), TAG.nhwc),
      a.eps,
      flags(a.relu),
    ),
  );
  return desc;
}

function forwardPrimitive(shape: readonly number[], a: NormAttrs): Primitive {
  const { dnnl, cache } = nativeContext();
  return cache.get(`bn-fwd|${shape}|${a.eps}|${a.relu}`, () => {
    const { pd, primitive } = dnnl.primitive(forwardDesc(shape, a));
    const data = dnnl.desc(nchwDims(shape), TAG.nhwc);
    const channel = dnnl.desc([shape[3]!], TAG.x);
    const ws = dnnl.workspaceBytes(pd);
    return new Primitive(dnnl, primitive, pd, [
      { arg: ARG.src, md: data },
      { arg: ARG.scale, md: channel },
      { arg: ARG.shift, md: channel },
      { arg: ARG.dst, md: data },
      { arg: ARG.mean, md: channel },
      { arg: ARG.variance, md: channel },
      ...(ws > 0 ? [{ arg: ARG.workspace, md: dnnl.queryMd(pd, QUERY.workspaceMd)! }] : []),
    ], ws);
  });
}

/** Inputs x, scale, shift, runningMean, runningVar; outputs y, the stats tensor (bn_stats.ts)
 * and the new running mean and variance. */
const forward: KernelConfig = {
  kernelName: NATIVE_BATCH_NORM,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const a = attrs as unknown as NormTrainAttrs;
    const { x, scale, shift, runningMean, runningVar } = inputs as Record<string, TensorInfo>;
    const set = setGeometry(x!.shape, a.sets);
    const prim = forwardPrimitive(set.shape, a);
    const [n, h, w, c] = set.shape;
    const layout = statsLayout(c, prim.workspaceBytes, set.sets);
    const y = b.makeOutput([...x!.shape], "float32");
    const stats = b.makeOutput([layout.length], "float32");
    const mean = b.makeOutput([c], "float32");
    const variance = b.makeOutput([c], "float32");
    const [px, ps, pb, py, pst] = addresses(b, [x!, scale!, shift!, y, stats]);
    for (let s = 0; s < set.sets; s++) {
      const off = BigInt(s) * set.stride;
      const st = statsAddresses(pst!, layout, prim.workspaceBytes > 0, s);
      prim.execute([px! + off, ps!, pb!, py! + off, ...st]);
    }
    const old = { mean: runningMean!, variance: runningVar! };
    writeRunningStats(b, stats, layout, old, { mean, variance }, n * h * w, a.momentum);
    return [y, stats, mean, variance];
  },
};

/** The later image sets' scale and shift gradients before they are summed (this thread's). */
const partials = new PartialGrads();

/** Inputs dy, x, scale and the forward's stats tensor; outputs dx, dscale, dshift. oneDNN
 * counts the shift among the backward pass's inputs though it does not read it (the gradients
 * do not depend on it): it is handed the scale's address. */
const backward: KernelConfig = {
  kernelName: NATIVE_BATCH_NORM_GRAD,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const a = attrs as unknown as NormAttrs;
    const { dy, x, scale, stats } = inputs as Record<string, TensorInfo>;
    const set = setGeometry(x!.shape, a.sets);
    const shape = set.shape;
    const { dnnl, cache } = nativeContext();
    const hint = forwardPrimitive(shape, a);
    const prim = cache.get(`bn-bwd|${shape}|${a.eps}|${a.relu}`, () => {
      const desc = new Uint8Array(STRUCT_BYTES.opDesc);
      const data = dnnl.desc(nchwDims(shape), TAG.nhwc);
      dnnl.check(
        "dnnl_batch_normalization_backward_desc_init",
        dnnl.fn.dnnl_batch_normalization_backward_desc_init(
          desc,
          PROP.backward,
          data,
          data,
          a.eps,
          flags(a.relu),
        ),
      );
      const { pd, primitive } = dnnl.primitive(desc, { hint: hint.pd });
      const channel = dnnl.desc([shape[3]!], TAG.x);
      return new Primitive(dnnl, primitive, pd, [
        { arg: ARG.src, md: data },
        { arg: ARG.mean, md: channel },
        { arg: ARG.variance, md: channel },
        { arg: ARG.diffDst, md: data },
        { arg: ARG.scale, md: channel },
        { arg: ARG.shift, md: channel },
        ...(hint.workspaceBytes > 0
          ? [{ arg: ARG.workspace, md: dnnl.queryMd(hint.pd, QUERY.workspaceMd)! }]
          : []),
        { arg: ARG.diffSrc, md: data },
        { arg: ARG.diffScale, md: channel },
        { arg: ARG.diffShift, md: channel },
      ]);
    });
    const c = shape[3];
    const dx = b.makeOutput([...x!.shape], "float32");
    const dscale = b.makeOutput([c], "float32");
    const dshift = b.makeOutput([c], "float32");
    const layout = statsLayout(c, hint.workspaceBytes, set.sets);
    const [px, pst, pdy, ps, pdx, pds, pdb] = addresses(b, [
      x!,
      stats!,
      dy!,
      scale!,
      dx,
      dscale,
      dshift,
    ]);
    if (set.sets > 1) partials.reserve(dnnl, set.sets, c);
    for (let s = 0; s < set.sets; s++) {
      const off = BigInt(s) * set.stride;
      const [pm, pv, pws] = statsAddresses(pst!, layout, hint.workspaceBytes > 0, s);
      const ws = pws === undefined ? [] : [pws];
      const [gs, gb] = s === 0 ? [pds!, pdb!] : partials.addresses(s);
      prim.execute([px! + off, pm!, pv!, pdy! + off, ps!, ps!, ...ws, pdx! + off, gs, gb]);
    }
    if (set.sets > 1) {
      partials.sumInto(set.sets, heapFloats(b, dscale, 0, c), heapFloats(b, dshift, 0, c));
    }
    return [dx, dscale, dshift];
  },
};

export const NORM_KERNELS: readonly KernelConfig[] = [forward, backward];
