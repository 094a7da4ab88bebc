/**
 * A oneDNN primitive built once per shape and reused: its memory objects are created once and
 * pointed at the tensors' bytes (in the wasm heap) before each execution, so a call costs a
 * few FFI crossings and no copies.
 */
import { type DnnlSymbols, type Pointer, STRUCT_BYTES } from "./dnnl_abi.ts";

/**
 * The part of the loaded library (dnnl.ts's Dnnl) a primitive calls: named here so that this
 * file need not import dnnl.ts, which builds primitives (no file circle).
 */
export interface PrimitiveHost {
  readonly fn: Pick<DnnlSymbols, "dnnl_memory_set_data_handle" | "dnnl_primitive_execute">;
  readonly stream: Pointer;
  check(call: string, status: number): void;
  memory(md: Pointer | Uint8Array): Pointer;
  implementation(pd: Pointer): string;
}

export interface PrimitiveArg {
  /** DNNL_ARG_* id. */
  readonly arg: number;
  /** The memory descriptor: one the primitive reported, or one built for it. */
  readonly md: Pointer | Uint8Array;
}

export class Primitive {
  readonly #memories: Pointer[];
  readonly #execArgs: Uint8Array;

  constructor(
    readonly dnnl: PrimitiveHost,
    readonly handle: Pointer,
    readonly pd: Pointer,
    args: readonly PrimitiveArg[],
    /** Bytes of the workspace (max-pool indices, fused-ReLU masks) forward hands backward. */
    readonly workspaceBytes = 0,
  ) {
    this.#memories = args.map((a) => dnnl.memory(a.md));
    this.#execArgs = new Uint8Array(args.length * STRUCT_BYTES.execArg);
    const view = new DataView(this.#execArgs.buffer);
    args.forEach((a, i) => {
      view.setInt32(i * STRUCT_BYTES.execArg, a.arg, true);
      view.setBigUint64(
        i * STRUCT_BYTES.execArg + 8,
        this.#memories[i]!,
        true,
      );
    });
  }

  /** The implementation oneDNN picked (e.g. "brg:avx512_core"). */
  get implementation(): string {
    return this.dnnl.implementation(this.pd);
  }

  /** Executes with one address per arg, in the order the args were given. */
  execute(addresses: readonly Pointer[]): void {
    const fn = this.dnnl.fn;
    if (addresses.length !== this.#memories.length) {
      throw new RangeError(
        `Cannot execute primitive: ${addresses.length} buffers for ${this.#memories.length} args`,
      );
    }
    for (let i = 0; i < addresses.length; i++) {
      this.dnnl.check(
        "dnnl_memory_set_data_handle",
        fn.dnnl_memory_set_data_handle(this.#memories[i]!, addresses[i]!),
      );
    }
    this.dnnl.check(
      "dnnl_primitive_execute",
      fn.dnnl_primitive_execute(this.handle, this.dnnl.stream, addresses.length, this.#execArgs),
    );
  }
}

/** What a cache entry must offer: execution, and its implementation for profiles. */
export interface Executable {
  execute(addresses: readonly Pointer[]): void;
  readonly implementation: string;
}

/** Primitives by a key of their kind, shapes and attributes, built on first use. */
export class PrimitiveCache {
  readonly #entries = new Map<string, Executable>();

  get<T extends Executable>(key: string, build: () => T): T {
    let entry = this.#entries.get(key) as T | undefined;
    if (!entry) {
      entry = build();
      this.#entries.set(key, entry);
    }
    return entry;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Implementations chosen, by key (for the profile and the tests). */
  implementations(): Map<string, string> {
    return new Map([...this.#entries].map(([k, p]) => [k, p.implementation]));
  }
}
