/**
 * oneDNN loaded with Deno.dlopen: one CPU engine and stream per thread (each Deno worker loads
 * its own), memory descriptors, primitives and their execution. Thin: every call's status is
 * checked and turned into an error naming the function.
 */
import { Primitive } from "./primitive.ts";
import {
  ARG,
  DATA_F32,
  DNNL_MAX_NDIMS,
  ENGINE_CPU,
  GOMP_SYMBOLS,
  ISA_NAMES,
  QUERY,
  STATUS_NAMES,
  STREAM_DEFAULT_FLAGS,
  STRUCT_BYTES,
  SYMBOLS,
} from "./dnnl_abi.ts";
import type { DnnlSymbols, Pointer } from "./dnnl_abi.ts";

export const LIBRARY = "libdnnl.so.2";
export const INSTALL_HINT = "install oneDNN 2.x with `apt-get install libdnnl2`";

type Symbols = DnnlSymbols;
export type { Pointer };

export interface DnnlInfo {
  readonly version: string;
  /** The instruction set oneDNN dispatches to on this CPU, e.g. "avx2", "avx512_core". */
  readonly isa: string;
  /** "omp" (OpenMP), "tbb", "threadpool" or "seq". */
  readonly runtime: string;
}

const RUNTIMES: Record<number, string> = {
  0: "none",
  1: "seq",
  2: "omp",
  4: "tbb",
  8: "threadpool",
};

export class Dnnl {
  readonly engine: Pointer;
  readonly stream: Pointer;
  readonly info: DnnlInfo;

  private constructor(
    readonly fn: Symbols,
    private readonly gomp: Deno.DynamicLibrary<typeof GOMP_SYMBOLS> | null,
  ) {
    const out = new BigUint64Array(1);
    this.check("dnnl_engine_create", fn.dnnl_engine_create(out, ENGINE_CPU, 0n));
    this.engine = pointerFrom(out[0]!);
    this.check("dnnl_stream_create", fn.dnnl_stream_create(out, this.engine, STREAM_DEFAULT_FLAGS));
    this.stream = pointerFrom(out[0]!);
    const v = new Deno.UnsafePointerView(fn.dnnl_version()!);
    this.info = {
      version: `${v.getInt32(0)}.${v.getInt32(4)}.${v.getInt32(8)}`,
      isa: ISA_NAMES[fn.dnnl_get_effective_cpu_isa()] ?? `isa-${fn.dnnl_get_effective_cpu_isa()}`,
      runtime: RUNTIMES[v.getUint32(24)] ?? `runtime-${v.getUint32(24)}`,
    };
  }

  /** Opens the library; throws with the install hint when it is missing. */
  static open(): Dnnl {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(LIBRARY, SYMBOLS);
    } catch (error) {
      const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new Error(`Cannot load ${LIBRARY} for the native backend: ${why}; ${INSTALL_HINT}`);
    }
    let gomp: Deno.DynamicLibrary<typeof GOMP_SYMBOLS> | null = null;
    try {
      gomp = Deno.dlopen("libgomp.so.1", GOMP_SYMBOLS);
    } catch (error) {
      // oneDNN built on another runtime (TBB, threadpool) has no OpenMP to tune: keep defaults.
      if (!(error instanceof Error)) throw error;
    }
    return new Dnnl(lib.symbols, gomp);
  }

  /** Threads oneDNN uses for calls from this thread (OpenMP's per-thread setting). */
  setThreads(n: number): void {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cannot set native threads: expected a positive integer, got ${n}`);
    }
    this.gomp?.symbols.omp_set_num_threads(n);
  }

  get threads(): number {
    return this.gomp?.symbols.omp_get_max_threads() ?? 1;
  }

  check(call: string, status: number): void {
    if (status !== 0) {
      const name = STATUS_NAMES[status] ?? `status ${status}`;
      throw new Error(`Cannot call oneDNN ${call}: it returned ${name}`);
    }
  }

  /** An f32 memory descriptor of logical `dims` in the physical order of `tag`. */
  desc(dims: readonly number[], tag: number): Uint8Array {
    if (dims.length > DNNL_MAX_NDIMS) {
      throw new RangeError(
        `Cannot describe oneDNN memory: ${dims.length} dims, at most ${DNNL_MAX_NDIMS}`,
      );
    }
    const md = new Uint8Array(STRUCT_BYTES.memoryDesc);
    const d = BigInt64Array.from(dims, BigInt);
    this.check(
      "dnnl_memory_desc_init_by_tag",
      this.fn.dnnl_memory_desc_init_by_tag(md, dims.length, d, DATA_F32, tag),
    );
    return md;
  }

  /** Builds a primitive from an initialised op descriptor. */
  primitive(
    opDesc: Uint8Array,
    options: { attr?: Pointer | null; hint?: Pointer | null } = {},
  ): { pd: Pointer; primitive: Pointer } {
    const out = new BigUint64Array(1);
    this.check(
      "dnnl_primitive_desc_create",
      this.fn.dnnl_primitive_desc_create(
        out,
        opDesc,
        options.attr ?? null,
        this.engine,
        options.hint ?? null,
      ),
    );
    const pd = pointerFrom(out[0]!);
    this.check("dnnl_primitive_create", this.fn.dnnl_primitive_create(out, pd));
    return { pd, primitive: pointerFrom(out[0]!) };
  }

  /** The memory descriptor a primitive expects for `query` (null when it needs none). */
  queryMd(pd: Pointer, query: number, index = 0): Pointer | null {
    return this.fn.dnnl_primitive_desc_query_md(pd, query, index);
  }

  /** Bytes a primitive's workspace takes (0 without one). */
  workspaceBytes(pd: Pointer): number {
    const md = this.queryMd(pd, QUERY.workspaceMd);
    return md ? Number(this.fn.dnnl_memory_desc_get_size(md)) : 0;
  }

  /** The implementation oneDNN chose, e.g. "brg:avx512_core" (for profiles and tests). */
  implementation(pd: Pointer): string {
    const out = new BigUint64Array(1);
    this.check(
      "dnnl_primitive_desc_query",
      this.fn.dnnl_primitive_desc_query(pd, QUERY.implInfoStr, 0, out),
    );
    return new Deno.UnsafePointerView(pointerFrom(out[0]!)).getCString();
  }

  /** A reorder between two layouts of the same tensor (args: ARG.src = from, ARG.dst = to). */
  reorder(from: Pointer | Uint8Array, to: Pointer | Uint8Array): Primitive {
    const ptr = (md: Pointer | Uint8Array) =>
      md instanceof Uint8Array ? Deno.UnsafePointer.of(md as Uint8Array<ArrayBuffer>)! : md;
    const out = new BigUint64Array(1);
    this.check(
      "dnnl_reorder_primitive_desc_create",
      this.fn.dnnl_reorder_primitive_desc_create(
        out,
        ptr(from),
        this.engine,
        ptr(to),
        this.engine,
        null,
      ),
    );
    const pd = pointerFrom(out[0]!);
    this.check("dnnl_primitive_create", this.fn.dnnl_primitive_create(out, pd));
    return new Primitive(this, pointerFrom(out[0]!), pd, [
      { arg: ARG.src, md: from },
      { arg: ARG.dst, md: to },
    ]);
  }

  /** A memory object over `md` whose data handle is set before each execution. */
  memory(md: Pointer | Uint8Array): Pointer {
    const out = new BigUint64Array(1);
    const mdPtr = md instanceof Uint8Array
      ? Deno.UnsafePointer.of(md as Uint8Array<ArrayBuffer>)!
      : md;
    this.check(
      "dnnl_memory_create",
      this.fn.dnnl_memory_create(out, mdPtr, this.engine, null),
    );
    return pointerFrom(out[0]!);
  }

  /** Post-ops attribute with one ReLU (conv + ReLU, add + ReLU in one pass). */
  reluAttr(reluAlg: number): Pointer {
    const out = new BigUint64Array(1);
    this.check("dnnl_post_ops_create", this.fn.dnnl_post_ops_create(out));
    const ops = pointerFrom(out[0]!);
    this.check(
      "dnnl_post_ops_append_eltwise",
      this.fn.dnnl_post_ops_append_eltwise(ops, 1, reluAlg, 0, 0),
    );
    this.check("dnnl_primitive_attr_create", this.fn.dnnl_primitive_attr_create(out));
    const attr = pointerFrom(out[0]!);
    this.check(
      "dnnl_primitive_attr_set_post_ops",
      this.fn.dnnl_primitive_attr_set_post_ops(attr, ops),
    );
    this.fn.dnnl_post_ops_destroy(ops);
    return attr;
  }
}

export function pointerFrom(value: bigint): Pointer {
  const ptr = Deno.UnsafePointer.create(value);
  if (!ptr) throw new Error("Cannot use a oneDNN handle: oneDNN returned null");
  return ptr;
}
