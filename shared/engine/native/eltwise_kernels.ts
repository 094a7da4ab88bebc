/**
 * The residual join on oneDNN: relu(a + b) in one pass (binary add with a ReLU post-op), and
 * its backward, dy * (y > 0), from the output y (ReLU's "use dst" form, so a and b need not
 * be kept).
 */
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs";
import { ALG, ARG, PROP, STRUCT_BYTES, TAG } from "./dnnl_abi.ts";
import { nativeContext } from "./context.ts";
import { Primitive } from "./primitive.ts";
import { addresses, asHeapBackend } from "./heap.ts";
import { NATIVE } from "../choices.ts";

export const NATIVE_ADD_RELU = "NativeAddRelu";
export const NATIVE_RELU_GRAD = "NativeReluGrad";

/** Elementwise shapes are flattened to 2-D [rows, channels]: any layout of equal shapes works. */
function flatDims(shape: readonly number[]): number[] {
  const c = shape.at(-1)!;
  return [shape.reduce((a, b) => a * b, 1) / c, c];
}

const addRelu: KernelConfig = {
  kernelName: NATIVE_ADD_RELU,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend }) => {
    const b = asHeapBackend(backend);
    const { a, b: other } = inputs as { a: TensorInfo; b: TensorInfo };
    if (a.shape.join() !== other.shape.join()) {
      throw new RangeError(`Cannot add [${a.shape}] and [${other.shape}]: shapes differ`);
    }
    const { dnnl, cache } = nativeContext();
    const dims = flatDims(a.shape);
    const prim = cache.get(`add-relu|${dims}`, () => {
      const md = dnnl.desc(dims, TAG.nc);
      const desc = new Uint8Array(STRUCT_BYTES.opDesc);
      dnnl.check(
        "dnnl_binary_desc_init",
        dnnl.fn.dnnl_binary_desc_init(desc, ALG.binaryAdd, md, md, md),
      );
      const { pd, primitive } = dnnl.primitive(desc, { attr: dnnl.reluAttr(ALG.eltwiseRelu) });
      return new Primitive(dnnl, primitive, pd, [
        { arg: ARG.src, md },
        { arg: ARG.src1, md },
        { arg: ARG.dst, md },
      ]);
    });
    const y = b.makeOutput([...a.shape], "float32");
    prim.execute(addresses(b, [a, other, y]));
    return y;
  },
};

const reluGrad: KernelConfig = {
  kernelName: NATIVE_RELU_GRAD,
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend }) => {
    const b = asHeapBackend(backend);
    const { dy, y } = inputs as { dy: TensorInfo; y: TensorInfo };
    const { dnnl, cache } = nativeContext();
    const dims = flatDims(y.shape);
    const prim = cache.get(`relu-bwd|${dims}`, () => {
      const md = dnnl.desc(dims, TAG.nc);
      const fwd = new Uint8Array(STRUCT_BYTES.opDesc);
      dnnl.check(
        "dnnl_eltwise_forward_desc_init",
        dnnl.fn.dnnl_eltwise_forward_desc_init(
          fwd,
          PROP.forwardTraining,
          ALG.eltwiseReluUseDst,
          md,
          0,
          0,
        ),
      );
      const hint = dnnl.primitive(fwd);
      const desc = new Uint8Array(STRUCT_BYTES.opDesc);
      dnnl.check(
        "dnnl_eltwise_backward_desc_init",
        dnnl.fn.dnnl_eltwise_backward_desc_init(desc, ALG.eltwiseReluUseDst, md, md, 0, 0),
      );
      const { pd, primitive } = dnnl.primitive(desc, { hint: hint.pd });
      return new Primitive(dnnl, primitive, pd, [
        { arg: ARG.dst, md },
        { arg: ARG.diffDst, md },
        { arg: ARG.diffSrc, md },
      ]);
    });
    const dx = b.makeOutput([...y.shape], "float32");
    prim.execute(addresses(b, [y, dy, dx]));
    return dx;
  },
};

export const ELTWISE_KERNELS: readonly KernelConfig[] = [addRelu, reluGrad];
