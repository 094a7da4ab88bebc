/**
 * Convolution kernels on oneDNN: forward (optionally with bias and a fused ReLU, which folded
 * batch norm uses in evaluation), backward-data and backward-weights. Activations are NHWC,
 * tfjs's own layout, used in place; filters are HWIO in tfjs and reordered to the layout the
 * primitive asks for. In bf16 mode (conv_precision.ts) the primitive reads bf16 copies of its
 * inputs, made by the same reorders, and writes fp32. In training the reordered copies are kept
 * with their tensors (reorder_cache.ts): a filter is reordered once per layout while its
 * weights last, and in bf16 an input or gradient is rounded once for both of its uses.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from "@tensorflow/tfjs";
import { ALG, ARG, PROP, QUERY, STRUCT_BYTES, TAG } from "./dnnl_abi.ts";
import { nativeContext } from "./context.ts";
import { Primitive } from "./primitive.ts";
import { type BlockedArg, BlockedOp, inputArg, outputArg } from "./blocked_op.ts";
import type { DisposingBackend } from "./reorder_cache.ts";
import { addresses, asHeapBackend, heapFloats, nchwDims, type WasmHeapBackend } from "./heap.ts";
import type { Dnnl, Pointer } from "./dnnl.ts";
import { computeDesc, convPrecision } from "./conv_precision.ts";
import { NATIVE } from "../choices.ts";

export const NATIVE_CONV = "NativeConv2D";
export const NATIVE_CONV_BACKPROP_INPUT = "NativeConv2DBackpropInput";
export const NATIVE_CONV_BACKPROP_FILTER = "NativeConv2DBackpropFilter";

export interface ConvAttrs extends NamedAttrMap {
  readonly stride: number;
  /** top, bottom, left, right */
  readonly pad: number[];
}

/** Activations stay NHWC: oneDNN then picks brgconv (forward) and NHWC-capable jit kernels
 * (backward), measured within a few per cent of its channel-blocked kernels even before the
 * reorders those need (bench/conv_layouts.ts); filters use whatever layout the primitive
 * prefers (reordered from HWIO once per layout, kept with the tensor). */
const ACT = TAG.nhwc;

/** Output side of a convolution or pooling window. */
export function outSide(size: number, k: number, s: number, lo: number, hi: number): number {
  return Math.floor((size + lo + hi - k) / s) + 1;
}

interface Geometry {
  readonly strides: BigInt64Array;
  readonly padL: BigInt64Array;
  readonly padR: BigInt64Array;
}

function geometry(a: ConvAttrs): Geometry {
  const [top, bottom, left, right] = a.pad as [number, number, number, number];
  return {
    strides: BigInt64Array.of(BigInt(a.stride), BigInt(a.stride)),
    padL: BigInt64Array.of(BigInt(top), BigInt(left)),
    padR: BigInt64Array.of(BigInt(bottom), BigInt(right)),
  };
}

/** Filter HWIO [kh, kw, ci, co] as oneDNN's logical (O, I, H, W). */
function filterDims(shape: readonly number[]): number[] {
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  return [co, ci, kh, kw];
}

function outShape(x: readonly number[], w: readonly number[], a: ConvAttrs): number[] {
  const [t, b, l, r] = a.pad as [number, number, number, number];
  return [
    x[0]!,
    outSide(x[1]!, w[0]!, a.stride, t, b),
    outSide(x[2]!, w[1]!, a.stride, l, r),
    w[3]!,
  ];
}

/** The tensors' own layouts, as oneDNN memory descriptors. */
const userDesc = {
  act: (dnnl: Dnnl, shape: readonly number[]) => dnnl.desc(nchwDims(shape), TAG.nhwc),
  filter: (dnnl: Dnnl, shape: readonly number[]) => dnnl.desc(filterDims(shape), TAG.hwio),
};

/** The forward op descriptor, also the hint that backward primitives need. */
function forwardDesc(
  x: readonly number[],
  w: readonly number[],
  y: readonly number[],
  a: ConvAttrs,
  prop: number,
  bias: boolean,
): Uint8Array {
  const { dnnl } = nativeContext();
  const g = geometry(a);
  const desc = new Uint8Array(STRUCT_BYTES.opDesc);
  dnnl.check(
    "dnnl_convolution_forward_desc_init",
    dnnl.fn.dnnl_convolution_forward_desc_init(
      desc,
      prop,
      ALG.convolutionDirect,
      computeDesc(dnnl, nchwDims(x), ACT),
      computeDesc(dnnl, filterDims(w), TAG.any),
      bias ? dnnl.desc([w[3]!], TAG.x) : null,
      dnnl.desc(nchwDims(y), ACT),
      g.strides,
      g.padL,
      g.padR,
    ),
  );
  return desc;
}

function forwardHint(
  x: readonly number[],
  w: readonly number[],
  y: readonly number[],
  a: ConvAttrs,
) {
  const { dnnl, cache } = nativeContext();
  return cache.get(`conv-hint|${x}|${w}|${a.stride}|${a.pad}|${convPrecision()}`, () => {
    const { pd, primitive } = dnnl.primitive(forwardDesc(x, w, y, a, PROP.forwardTraining, false));
    return new Primitive(dnnl, primitive, pd, []);
  }).pd;
}

/** A backward primitive: `init` fills the op descriptor; cached under `key`. */
function backwardOp(
  key: string,
  init: (dnnl: Dnnl, desc: Uint8Array, g: Geometry) => void,
  hint: () => Pointer,
  args: (dnnl: Dnnl) => BlockedArg[],
  a: ConvAttrs,
): BlockedOp {
  const { dnnl, cache, arena, reordered } = nativeContext();
  return cache.get(key, () => {
    const desc = new Uint8Array(STRUCT_BYTES.opDesc);
    init(dnnl, desc, geometry(a));
    const { pd, primitive } = dnnl.primitive(desc, { hint: hint() });
    return new BlockedOp(dnnl, pd, primitive, args(dnnl), arena, reordered);
  });
}

/** Runs `op` on `tensors`, its kept copies dropped when `b` disposes their data. */
function run(op: BlockedOp, b: WasmHeapBackend, tensors: readonly TensorInfo[]): void {
  nativeContext().reordered.watch(b as unknown as DisposingBackend);
  op.execute(addresses(b, tensors), tensors.map((t) => t.dataId));
}

/** Copies `from`'s bytes over `to`'s (same shape, both float32 on the heap). */
function copyInto(b: WasmHeapBackend, from: TensorInfo, to: TensorInfo): void {
  heapFloats(b, to).set(heapFloats(b, from));
}

interface ForwardAttrs extends ConvAttrs {
  readonly relu: boolean;
  readonly training: boolean;
}

const conv: KernelConfig = {
  kernelName: NATIVE_CONV,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const a = attrs as unknown as ForwardAttrs;
    const { x, filter, bias, residual } = inputs as {
      x: TensorInfo;
      filter: TensorInfo;
      bias?: TensorInfo;
      residual?: TensorInfo;
    };
    const yShape = outShape(x.shape, filter.shape, a);
    if (residual && residual.shape.join() !== yShape.join()) {
      throw new RangeError(
        `Cannot add a residual of shape [${residual.shape}] to a convolution's output ` +
          `[${yShape}]: the shapes must be equal`,
      );
    }
    const { dnnl, cache, arena, reordered } = nativeContext();
    // The same weights serve three passes and backward-data in training, and many batches in
    // evaluation (folded filters are kept, folded_conv.ts); in bf16 training the input's
    // rounded copy serves backward-weights.
    const reuseInput = a.training ? "keep" : "none";
    const key =
      `conv|${x.shape}|${filter.shape}|${a.stride}|${a.pad}|${!!bias}|${!!residual}|${a.relu}|` +
      `${a.training}|` +
      convPrecision();
    const op = cache.get(key, () => {
      const prop = a.training ? PROP.forwardTraining : PROP.forwardInference;
      // The residual join as a sum post-op (the residual is copied into the output first):
      // oneDNN keeps its brgconv kernel, which it does not for a binary-add post-op (measured
      // about 3 % faster per evaluation batch), and the block's add and ReLU cost no call.
      const attr = a.relu || residual
        ? dnnl.postOpsAttr({ sum: !!residual, relu: a.relu ? ALG.eltwiseRelu : undefined })
        : null;
      const desc = forwardDesc(x.shape, filter.shape, yShape, a, prop, !!bias);
      const { pd, primitive } = dnnl.primitive(desc, { attr });
      return new BlockedOp(
        dnnl,
        pd,
        primitive,
        [
          inputArg(ARG.src, userDesc.act(dnnl, x.shape), QUERY.srcMd, { reuse: reuseInput }),
          inputArg(ARG.weights, userDesc.filter(dnnl, filter.shape), QUERY.weightsMd, {
            reuse: "keep",
          }),
          ...(bias
            ? [inputArg(ARG.bias, dnnl.desc([filter.shape[3]!], TAG.x), QUERY.weightsMd, {
              index: 1,
            })]
            : []),
          outputArg(ARG.dst, userDesc.act(dnnl, yShape), QUERY.dstMd),
        ],
        arena,
        reordered,
      );
    });
    if (residual && !op.outputsInPlace) {
      throw new Error(
        `Cannot fuse a residual into convolution ${key}: its output goes through a reorder, ` +
          "and the sum post-op reads the output buffer",
      );
    }
    const y = b.makeOutput(yShape, "float32");
    if (residual) copyInto(b, residual, y);
    run(op, b, [x, filter, ...(bias ? [bias] : []), y]);
    return y;
  },
};

/** Inputs dy, filter; attrs of the forward plus its input's NHWC shape. */
const backpropInput: KernelConfig = {
  kernelName: NATIVE_CONV_BACKPROP_INPUT,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const a = attrs as unknown as ConvAttrs & { readonly inShape: number[] };
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const op = backwardOp(
      `conv-bwd-data|${a.inShape}|${filter.shape}|${a.stride}|${a.pad}|${convPrecision()}`,
      (dnnl, desc, g) =>
        dnnl.check(
          "dnnl_convolution_backward_data_desc_init",
          dnnl.fn.dnnl_convolution_backward_data_desc_init(
            desc,
            ALG.convolutionDirect,
            dnnl.desc(nchwDims(a.inShape), ACT),
            computeDesc(dnnl, filterDims(filter.shape), TAG.any),
            computeDesc(dnnl, nchwDims(dy.shape), ACT),
            g.strides,
            g.padL,
            g.padR,
          ),
        ),
      () => forwardHint(a.inShape, filter.shape, dy.shape, a),
      (dnnl) => [
        // dy's rounded copy (bf16) serves backward-weights next.
        inputArg(ARG.diffDst, userDesc.act(dnnl, dy.shape), QUERY.diffDstMd, { reuse: "keep" }),
        inputArg(ARG.weights, userDesc.filter(dnnl, filter.shape), QUERY.weightsMd, {
          reuse: "keep",
        }),
        outputArg(ARG.diffSrc, userDesc.act(dnnl, a.inShape), QUERY.diffSrcMd),
      ],
      a,
    );
    const dx = b.makeOutput([...a.inShape], "float32");
    run(op, b, [dy, filter, dx]);
    return dx;
  },
};

/** Inputs x, dy; attrs of the forward plus the filter's HWIO shape. */
const backpropFilter: KernelConfig = {
  kernelName: NATIVE_CONV_BACKPROP_FILTER,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = asHeapBackend(backend);
    const a = attrs as unknown as ConvAttrs & { readonly filterShape: number[] };
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const op = backwardOp(
      `conv-bwd-weights|${x.shape}|${a.filterShape}|${a.stride}|${a.pad}|${convPrecision()}`,
      (dnnl, desc, g) =>
        dnnl.check(
          "dnnl_convolution_backward_weights_desc_init",
          dnnl.fn.dnnl_convolution_backward_weights_desc_init(
            desc,
            ALG.convolutionDirect,
            computeDesc(dnnl, nchwDims(x.shape), ACT),
            dnnl.desc(filterDims(a.filterShape), TAG.any),
            null,
            computeDesc(dnnl, nchwDims(dy.shape), ACT),
            g.strides,
            g.padL,
            g.padR,
          ),
        ),
      () => forwardHint(x.shape, a.filterShape, dy.shape, a),
      (dnnl) => [
        // The last reader of both: use the copies the forward and backward-data kept.
        inputArg(ARG.src, userDesc.act(dnnl, x.shape), QUERY.srcMd, { reuse: "find" }),
        inputArg(ARG.diffDst, userDesc.act(dnnl, dy.shape), QUERY.diffDstMd, { reuse: "find" }),
        outputArg(ARG.diffWeights, userDesc.filter(dnnl, a.filterShape), QUERY.diffWeightsMd),
      ],
      a,
    );
    const dw = b.makeOutput([...a.filterShape], "float32");
    run(op, b, [x, dy, dw]);
    return dw;
  },
};

export const CONV_KERNELS: readonly KernelConfig[] = [conv, backpropInput, backpropFilter];
