/** The oneDNN library and primitive cache of this thread (each Deno worker has its own). */
import { Dnnl } from "./dnnl.ts";
import { PrimitiveCache } from "./primitive.ts";
import { Arena } from "./blocked_op.ts";
import { ReorderCache } from "./reorder_cache.ts";

export interface NativeContext {
  readonly dnnl: Dnnl;
  readonly cache: PrimitiveCache;
  /** Scratch for blocked layouts, shared by every op of this thread. */
  readonly arena: Arena;
  /** Reordered copies kept with their tensors (filters, bf16 inputs) between calls. */
  readonly reordered: ReorderCache;
}

let context: NativeContext | undefined;

/** Opens oneDNN on first use; throws (with the install hint) when it cannot load. */
export function nativeContext(): NativeContext {
  return context ??= {
    dnnl: Dnnl.open(),
    cache: new PrimitiveCache(),
    arena: new Arena(),
    reordered: new ReorderCache(),
  };
}

/** Whether oneDNN loads here (never throws). */
export function nativeAvailable(): boolean {
  try {
    nativeContext();
    return true;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("Cannot load")) return false;
    throw error;
  }
}
