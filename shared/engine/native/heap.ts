/**
 * Where tfjs wasm tensors live: bytes in the wasm module's heap at the tensor's memory offset.
 * Native kernels hand oneDNN those addresses directly (no copies). The heap's ArrayBuffer is
 * replaced when the wasm memory grows, so addresses are computed after every allocation.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorInfo } from "@tensorflow/tfjs";
import { nativeContext } from "./context.ts";
import type { Pointer } from "./dnnl.ts";

/** The parts of tfjs's BackendWasm the native kernels use. */
export interface WasmHeapBackend {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: "float32" | "int32"): TensorInfo;
}

/** `backend` as one that keeps tensors in a wasm heap (wasm, native), or null. */
export function heapBackendOf(backend: unknown): WasmHeapBackend | null {
  const b = backend as Partial<WasmHeapBackend> | null;
  return b?.wasm?.HEAPU8 && b.dataIdMap && typeof b.makeOutput === "function"
    ? b as WasmHeapBackend
    : null;
}

export function asHeapBackend(backend: unknown): WasmHeapBackend {
  const b = heapBackendOf(backend);
  if (!b) throw new TypeError("Cannot run a native kernel: the backend is not tfjs's wasm backend");
  return b;
}

/** The byte offset of a tensor's data in the heap. */
export function heapOffset(b: WasmHeapBackend, t: TensorInfo): number {
  const data = b.dataIdMap.get(t.dataId);
  if (!data) throw new Error("Cannot find a tensor in the wasm heap: it was disposed");
  return data.memoryOffset;
}

/**
 * A float32 view of a tensor's heap bytes, `length` values from value `from` (default: to the
 * end). Valid until the next allocation (growing the heap replaces its buffer): make it after
 * the kernel's last allocation and use it at once.
 */
export function heapFloats(
  b: WasmHeapBackend,
  t: TensorInfo,
  from = 0,
  length = tf.util.sizeFromShape(t.shape) - from,
): Float32Array {
  const size = tf.util.sizeFromShape(t.shape);
  if (from < 0 || length < 0 || from + length > size) {
    throw new RangeError(
      `Cannot read a tensor's bytes: values ${from}..${from + length} lie outside its ${size}`,
    );
  }
  const heap = b.wasm.HEAPU8;
  return new Float32Array(heap.buffer, heap.byteOffset + heapOffset(b, t) + 4 * from, length);
}

/** Heap addresses of `tensors`; call after the kernel's outputs are allocated. */
export function addresses(backend: WasmHeapBackend, tensors: readonly TensorInfo[]): Pointer[] {
  const base = nativeContext().dnnl.addressOf(backend.wasm.HEAPU8);
  if (!base) throw new Error("Cannot address the wasm heap: its buffer has no pointer");
  return tensors.map((t) => {
    const offset = heapOffset(backend, t);
    const ptr = base + BigInt(offset);
    if (offset === 0) {
      throw new Error("Cannot address a tensor: it sits at heap offset 0 (a null pointer)");
    }
    return ptr;
  });
}

/** An int32 tensor of at least `bytes` bytes (workspaces), at least one element. */
export function workspaceOutput(backend: WasmHeapBackend, bytes: number): TensorInfo {
  return backend.makeOutput([Math.max(1, Math.ceil(bytes / 4))], "int32");
}

/** oneDNN's logical dims (N, C, H, W) of an NHWC tensor shape. */
export function nchwDims(shape: readonly number[]): number[] {
  const [n, h, w, c] = shape;
  if (shape.length !== 4) {
    throw new RangeError(
      `Cannot give oneDNN dims: expected an NHWC shape (4 dims), got [${shape}]`,
    );
  }
  return [n!, c!, h!, w!];
}
