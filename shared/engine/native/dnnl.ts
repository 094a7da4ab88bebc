/**
 * oneDNN loaded with Deno.dlopen: one CPU engine and stream per thread (each Deno worker loads
 * its own), memory descriptors, primitives and their execution. Thin: every call's status is
 * checked and turned into an error naming the function.
 */
import { isAbsolute, join } from "node:path";
import { Primitive } from "./primitive.ts";
import {
  ARG,
  DATA_F32,
  DATA_U8,
  DNNL_MAX_NDIMS,
  ENGINE_CPU,
  GOMP_SYMBOLS,
  ISA_NAMES,
  QUERY,
  STATUS_NAMES,
  STREAM_DEFAULT_FLAGS,
  STRUCT_BYTES,
  SYMBOLS,
  TAG,
} from "./dnnl_abi.ts";
import type { DnnlSymbols, Pointer } from "./dnnl_abi.ts";

export const LIBRARY = "libdnnl.so.2";
export const INSTALL_HINT = "install oneDNN 2.x with `apt-get install libdnnl2` (or link your " +
  "libdnnl.so.2 into the checkout's .native/ folder)";

/**
 * Folders csn opens oneDNN and OpenMP from, first found wins: the checkout's .native/ (a
 * user's link to a oneDNN installed elsewhere), then Debian's and Ubuntu's place. Deno allows
 * FFI by path, and the deno.json tasks allow exactly these (tests/task_permissions_test.ts).
 */
export const LIBRARY_DIRS = [".native", "/usr/lib/x86_64-linux-gnu"] as const;

// import.meta.dirname, not a URL literal, which the stage code hash would take for a module.
const CHECKOUT = join(import.meta.dirname ?? ".", "..", "..", "..");

/** The path to open `name` by: the first of LIBRARY_DIRS holding it, else the bare name for
 * the loader's own search (which only an unscoped --allow-ffi permits). */
export function libraryPath(name: string): string {
  for (const dir of LIBRARY_DIRS) {
    const path = join(isAbsolute(dir) ? dir : join(CHECKOUT, dir), name);
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  return name;
}

export const WAIT_POLICY = "OMP_WAIT_POLICY";

/**
 * Makes OpenMP's idle threads sleep at once instead of spinning (libgomp's default spins about
 * 3 ms after every parallel region). Spinning threads took the cores from the thread that had
 * work whenever the machine was busy: on 2 shared cores, one image embedded with 2 oneDNN
 * threads took 100-500 ms instead of 3-5 ms, and a batch of 16 several times longer than with
 * one thread. libgomp reads the variable once, when it loads (with oneDNN), so it is set here
 * before; a value the user set is kept, and without permission to the variable nothing changes.
 */
export function passiveOpenMpWait(): void {
  const permission = Deno.permissions.querySync({ name: "env", variable: WAIT_POLICY });
  if (permission.state !== "granted" || Deno.env.get(WAIT_POLICY) !== undefined) return;
  Deno.env.set(WAIT_POLICY, "passive");
}

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
  /** A one-byte memory object whose data handle tells buffers' addresses (addressOf). */
  readonly #probe: Pointer;

  private constructor(
    readonly fn: Symbols,
    private readonly gomp: Deno.DynamicLibrary<typeof GOMP_SYMBOLS> | null,
  ) {
    const out = new BigUint64Array(1);
    this.check("dnnl_engine_create", fn.dnnl_engine_create(out, ENGINE_CPU, 0n));
    this.engine = pointerFrom(out[0]!);
    this.check("dnnl_stream_create", fn.dnnl_stream_create(out, this.engine, STREAM_DEFAULT_FLAGS));
    this.stream = pointerFrom(out[0]!);
    this.#probe = this.memory(this.desc([1], TAG.x, DATA_U8));
    // dnnl_version_t: int major, minor, patch; const char* hash; unsigned cpu_runtime.
    const v = new DataView(this.readBytes(address(fn.dnnl_version()), 32).buffer);
    this.info = {
      version: `${v.getInt32(0, true)}.${v.getInt32(4, true)}.${v.getInt32(8, true)}`,
      isa: ISA_NAMES[fn.dnnl_get_effective_cpu_isa()] ?? `isa-${fn.dnnl_get_effective_cpu_isa()}`,
      runtime: RUNTIMES[v.getUint32(24, true)] ?? `runtime-${v.getUint32(24, true)}`,
    };
  }

  /** Opens the library; throws with the install hint when it is missing. */
  static open(): Dnnl {
    passiveOpenMpWait();
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(libraryPath(LIBRARY), SYMBOLS);
    } catch (error) {
      const why = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new Error(`Cannot load ${LIBRARY} for the native backend: ${why}; ${INSTALL_HINT}`);
    }
    let gomp: Deno.DynamicLibrary<typeof GOMP_SYMBOLS> | null = null;
    try {
      gomp = Deno.dlopen(libraryPath("libgomp.so.1"), GOMP_SYMBOLS);
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

  /** Where `bytes` start in memory: oneDNN keeps a buffer given as a data handle and hands
   * its address back. Valid while `bytes` lives (ArrayBuffers do not move). */
  addressOf(bytes: Uint8Array): Pointer {
    const out = new BigUint64Array(1);
    this.check(
      "dnnl_memory_set_data_handle",
      this.fn.dnnl_memory_set_data_handle_buffer(this.#probe, bytes),
    );
    this.check(
      "dnnl_memory_get_data_handle",
      this.fn.dnnl_memory_get_data_handle(this.#probe, out),
    );
    return out[0]!;
  }

  /** A copy of `length` bytes at `from` (oneDNN's own structs and strings), by a u8 reorder. */
  readBytes(from: Pointer, length: number): Uint8Array {
    const md = this.desc([length], TAG.x, DATA_U8);
    const copy = new Uint8Array(length);
    this.reorder(md, md).execute([from, this.addressOf(copy)]);
    return copy;
  }

  /** A memory descriptor (f32 unless told) of logical `dims` in the physical order of `tag`. */
  desc(dims: readonly number[], tag: number, dataType = DATA_F32): Uint8Array {
    if (dims.length > DNNL_MAX_NDIMS) {
      throw new RangeError(
        `Cannot describe oneDNN memory: ${dims.length} dims, at most ${DNNL_MAX_NDIMS}`,
      );
    }
    const md = new Uint8Array(STRUCT_BYTES.memoryDesc);
    const d = BigInt64Array.from(dims, BigInt);
    this.check(
      "dnnl_memory_desc_init_by_tag",
      this.fn.dnnl_memory_desc_init_by_tag(md, dims.length, d, dataType, tag),
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
        options.attr ?? 0n,
        this.engine,
        options.hint ?? 0n,
      ),
    );
    const pd = pointerFrom(out[0]!);
    this.check("dnnl_primitive_create", this.fn.dnnl_primitive_create(out, pd));
    return { pd, primitive: pointerFrom(out[0]!) };
  }

  /** The memory descriptor a primitive expects for `query` (null when it needs none). */
  queryMd(pd: Pointer, query: number, index = 0): Pointer | null {
    return address(this.fn.dnnl_primitive_desc_query_md(pd, query, index)) || null;
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
    // A static string of oneDNN's ("brg:avx512_core"): read a bounded prefix, up to its NUL.
    const bytes = this.readBytes(pointerFrom(out[0]!), 64);
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end));
  }

  /** A reorder between two layouts of the same tensor (args: ARG.src = from, ARG.dst = to). */
  reorder(from: Pointer | Uint8Array, to: Pointer | Uint8Array): Primitive {
    const ptr = (md: Pointer | Uint8Array) => md instanceof Uint8Array ? this.addressOf(md) : md;
    const out = new BigUint64Array(1);
    this.check(
      "dnnl_reorder_primitive_desc_create",
      this.fn.dnnl_reorder_primitive_desc_create(
        out,
        ptr(from),
        this.engine,
        ptr(to),
        this.engine,
        0n,
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
    this.check(
      "dnnl_memory_create",
      md instanceof Uint8Array
        ? this.fn.dnnl_memory_create_from_buffer(out, md, this.engine, 0n)
        : this.fn.dnnl_memory_create(out, md, this.engine, 0n),
    );
    return pointerFrom(out[0]!);
  }

  /** Post-ops attribute with one ReLU (conv + ReLU, add + ReLU in one pass). */
  reluAttr(reluAlg: number): Pointer {
    return this.postOpsAttr({ relu: reluAlg });
  }

  /** Primitive attributes with post-ops: `sum` adds what the output buffer holds before the
   * call (a residual copied there), then a ReLU of algorithm `relu`. */
  postOpsAttr(chain: { sum?: boolean; relu?: number }): Pointer {
    const out = new BigUint64Array(1);
    this.check("dnnl_post_ops_create", this.fn.dnnl_post_ops_create(out));
    const ops = pointerFrom(out[0]!);
    if (chain.sum) {
      this.check("dnnl_post_ops_append_sum", this.fn.dnnl_post_ops_append_sum(ops, 1));
    }
    if (chain.relu !== undefined) {
      this.check(
        "dnnl_post_ops_append_eltwise",
        this.fn.dnnl_post_ops_append_eltwise(ops, 1, chain.relu, 0, 0),
      );
    }
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
  if (value === 0n) throw new Error("Cannot use a oneDNN handle: oneDNN returned null");
  return value;
}

/** An address FFI returned ("usize": a number when it fits 53 bits, else a bigint). */
function address(value: number | bigint): Pointer {
  return BigInt(value);
}
