/**
 * Identity without a copy. tf.clone (which tf.customGrad uses for every tensor a gradient
 * saves, and gradient bookkeeping for many more) runs the Identity kernel, and the wasm one
 * copies the bytes: thousands of copies of activations per training step. tfjs tensors are
 * immutable (Variable.assign swaps the data id), so sharing the bytes with a reference count,
 * as wasm's own Reshape does, is safe.
 */
import type { KernelConfig, TensorInfo } from "@tensorflow/tfjs";
import { NATIVE } from "../choices.ts";

interface RefCounted {
  incRef(dataId: object): void;
}

export const IDENTITY_KERNEL: KernelConfig = {
  kernelName: "Identity",
  backendName: NATIVE,
  kernelFunc: ({ inputs, backend }) => {
    const x = (inputs as { x: TensorInfo }).x;
    (backend as unknown as RefCounted).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  },
};
