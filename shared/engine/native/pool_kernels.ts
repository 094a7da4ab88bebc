/**
 * Pooling on oneDNN: max-pool (forward keeps the argmax in a workspace for backward) and the
 * global average pool that ends the backbone ([N, H, W, C] -> [N, C]), each with its backward.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { ALG, ARG, PROP, QUERY, STRUCT_BYTES, TAG } from "./dnnl_abi.ts";
import { nativeContext } from "./context.ts";
import { Primitive } from "./primitive.ts";
import { addresses, asHeapBackend, nchwDims, workspaceOutput } from "./heap.ts";
import { outSide } from "./conv_kernels.ts";
import { NATIVE } from "../choices.ts";

export const NATIVE_MAX_POOL = "NativeMaxPool";
export const NATIVE_MAX_POOL_GRAD = "NativeMaxPoolGrad";
export const NATIVE_AVG_POOL = "NativeGlobalAvgPool";
export const NATIVE_AVG_POOL_GRAD = "NativeGlobalAvgPoolGrad";

interface Window {
  readonly alg: number;
  readonly kernel: [number, number];
  readonly stride: number;
  readonly pad: number;
}

export interface MaxPoolAttrs extends NamedAttrMap {
  readonly size: number;
  readonly stride: number;
  readonly pad: number;
  readonly training: boolean;
}

function windowOut(inShape: readonly number[], w: Window): number[] {
  const [n, h, wd, c] = inShape as [number, number, number, number];
  const p = w.pad;
  return [n, outSide(h, w.kernel[0], w.stride, p, p), outSide(wd, w.kernel[1], w.stride, p, p), c];
}

function forwardDesc(inShape: readonly number[], w: Window, prop: number): Uint8Array {
  const { dnnl } = nativeContext();
  const desc = new Uint8Array(STRUCT_BYTES.opDesc);
  const two = (v: number) => BigInt64Array.of(BigInt(v), BigInt(v));
  dnnl.check(
    "dnnl_pooling_v2_forward_desc_init",
    dnnl.fn.dnnl_pooling_v2_forward_desc_init(
      desc,
      prop,
      w.alg,
      dnnl.desc(nchwDims(inShape), TAG.nhwc),
      dnnl.desc(nchwDims(windowOut(inShape, w)), TAG.nhwc),
      two(w.stride),
      BigInt64Array.of(BigInt(w.kernel[0]), BigInt(w.kernel[1])),
      two(0),
      two(w.pad),
      two(w.pad),
    ),
  );
  return desc;
}

function forwardPrimitive(inShape: readonly number[], w: Window, training: boolean): Primitive {
  const { dnnl, cache } = nativeContext();
  const key = `pool-fwd|${inShape}|${w.alg}|${w.kernel}|${w.stride}|${w.pad}|${training}`;
  return cache.get(key, () => {
    const prop = training ? PROP.forwardTraining : PROP.forwardInference;
    const { pd, primitive } = dnnl.primitive(forwardDesc(inShape, w, prop));
    const ws = dnnl.workspaceBytes(pd);
    return new Primitive(dnnl, primitive, pd, [
      { arg: ARG.src, md: dnnl.desc(nchwDims(inShape), TAG.nhwc) },
      { arg: ARG.dst, md: dnnl.desc(nchwDims(windowOut(inShape, w)), TAG.nhwc) },
      ...(ws > 0 ? [{ arg: ARG.workspace, md: dnnl.queryMd(pd, QUERY.workspaceMd)! }] : []),
    ], ws);
  });
}

function backwardPrimitive(inShape: readonly number[], w: Window): Primitive {
  const { dnnl, cache } = nativeContext();
  const hint = forwardPrimitive(inShape, w, true);
  const key = `pool-bwd|${inShape}|${w.alg}|${w.kernel}|${w.stride}|${w.pad}`;
  return cache.get(key, () => {
    const desc = new Uint8Array(STRUCT_BYTES.opDesc);
    const two = (v: number) => BigInt64Array.of(BigInt(v), BigInt(v));
    const outShape = windowOut(inShape, w);
    dnnl.check(
      "dnnl_pooling_v2_backward_desc_init",
      dnnl.fn.dnnl_pooling_v2_backward_desc_init(
        desc,
        w.alg,
        dnnl.desc(nchwDims(inShape), TAG.nhwc),
        dnnl.desc(nchwDims(outShape), TAG.nhwc),
        two(w.stride),
        BigInt64Array.of(BigInt(w.kernel[0]), BigInt(w.kernel[1])),
        two(0),
        two(w.pad),
        two(w.pad),
      ),
    );
    const { pd, primitive } = dnnl.primitive(desc, { hint: hint.pd });
    return new Primitive(dnnl, primitive, pd, [
      { arg: ARG.diffDst, md: dnnl.desc(nchwDims(outShape), TAG.nhwc) },
      ...(hint.workspaceBytes > 0
        ? [{ arg: ARG.workspace, md: dnnl.queryMd(hint.pd, QUERY.workspaceMd)! }]
        : []),
      { arg: ARG.diffSrc, md: dnnl.desc(nchwDims(inShape), TAG.nhwc) },
    ], hint.workspaceBytes);
  });
}

function maxWindow(a: MaxPoolAttrs): Window {
  return { alg: ALG.poolingMax, kernel: [a.size, a.size], stride: a.stride, pad: a.pad };
}

function globalWindow(inShape: readonly number[]): Window {
  return {
    alg: ALG.poolingAvgExcludePadding,
    kernel: [inShape[1]!, inShape[2]!],
    stride: 1,
    pad: 0,
  };
}

/** Input x; outputs y and the workspace (int32; 1 element in inference). */
const maxPool: KernelConfig = {
  kernelName: NATIVE_MAX_POOL,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const a = attrs as unknown as MaxPoolAttrs;
    const x = (inputs as { x: TensorInfo }).x;
    const w = maxWindow(a);
    const prim = forwardPrimitive(x.shape, w, a.training);
    const y = b.makeOutput(windowOut(x.shape, w), "float32");
    const ws = workspaceOutput(b, prim.workspaceBytes);
    prim.execute(addresses(b, prim.workspaceBytes > 0 ? [x, y, ws] : [x, y]));
    return [y, ws];
  },
};

/** Inputs dy, workspace; attrs of the forward plus its input shape. */
const maxPoolGrad: KernelConfig = {
  kernelName: NATIVE_MAX_POOL_GRAD,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const a = attrs as unknown as MaxPoolAttrs & { inShape: number[] };
    const { dy, workspace } = inputs as { dy: TensorInfo; workspace: TensorInfo };
    const prim = backwardPrimitive(a.inShape, maxWindow(a));
    const dx = b.makeOutput([...a.inShape], "float32");
    prim.execute(addresses(b, [dy, workspace, dx]));
    return dx;
  },
};

/** [N, H, W, C] -> [N, C], the mean over H and W. */
const avgPool: KernelConfig = {
  kernelName: NATIVE_AVG_POOL,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const x = (inputs as { x: TensorInfo }).x;
    const prim = forwardPrimitive(x.shape, globalWindow(x.shape), !!attrs?.training);
    const y = b.makeOutput([x.shape[0]!, x.shape[3]!], "float32");
    prim.execute(addresses(b, [x, y]));
    return y;
  },
};

const avgPoolGrad: KernelConfig = {
  kernelName: NATIVE_AVG_POOL_GRAD,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const inShape = attrs?.inShape as number[];
    const dy = (inputs as { dy: TensorInfo }).dy;
    const prim = backwardPrimitive(inShape, globalWindow(inShape));
    const dx = b.makeOutput([...inShape], "float32");
    prim.execute(addresses(b, [dy, dx]));
    return dx;
  },
};

export const POOL_KERNELS: readonly KernelConfig[] = [maxPool, maxPoolGrad, avgPool, avgPoolGrad];
