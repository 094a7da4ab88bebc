/**
 * The "native" tfjs backend: a wasm backend instance carrying every wasm kernel, plus oneDNN
 * kernels for the heavy blocks of the backbone (see net_ops.ts). A separate name, so that
 * results, cache keys and tests can tell it from plain wasm, and both can run in one process.
 */
import * as tf from "@tensorflow/tfjs";
import { registerNetOps } from "../../model/net_ops.ts";
import { CONV_KERNELS } from "./conv_kernels.ts";
import { NORM_KERNELS } from "./norm_kernels.ts";
import { POOL_KERNELS } from "./pool_kernels.ts";
import { ELTWISE_KERNELS } from "./eltwise_kernels.ts";
import { NATIVE_OPS } from "./net_ops.ts";
import { nativeContext } from "./context.ts";
import { IDENTITY_KERNEL } from "./identity_kernel.ts";
import { ADAM_KERNEL, nativeAdam } from "./adam_kernel.ts";
import { registerFusedAdam } from "../../model/optim.ts";
import { LOSS_GRAD, LOSS_GRAD_KERNEL, LOSS_KERNEL, nativeLoss } from "./loss_kernel.ts";
import { registerFusedLoss } from "../../model/loss.ts";
import { NATIVE } from "../choices.ts";

export const NATIVE_BACKEND = NATIVE;

/** Registers the backend and its kernels (once); wasm paths must already be set. */
export function registerNativeBackend(): void {
  if (tf.findBackendFactory(NATIVE_BACKEND)) return;
  nativeContext(); // fail here, with the install hint, rather than inside a kernel
  const wasmFactory = tf.findBackendFactory("wasm");
  if (!wasmFactory) throw new Error("Cannot register the native backend: tfjs has no wasm backend");
  tf.registerBackend(NATIVE_BACKEND, () => wasmFactory(), 0);
  for (const kernel of tf.getKernelsForBackend("wasm")) {
    tf.registerKernel({ ...kernel, backendName: NATIVE_BACKEND });
  }
  tf.unregisterKernel(IDENTITY_KERNEL.kernelName, NATIVE_BACKEND);
  tf.registerKernel(IDENTITY_KERNEL);
  const native = [...CONV_KERNELS, ...NORM_KERNELS, ...POOL_KERNELS, ...ELTWISE_KERNELS];
  for (const kernel of [...native, ADAM_KERNEL, LOSS_KERNEL, LOSS_GRAD_KERNEL]) {
    tf.registerKernel(kernel);
  }
  tf.registerGradient(LOSS_GRAD);
  registerNetOps(NATIVE_BACKEND, NATIVE_OPS);
  registerFusedAdam(NATIVE_BACKEND, nativeAdam);
  registerFusedLoss(NATIVE_BACKEND, nativeLoss);
}
