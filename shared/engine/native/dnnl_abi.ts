/**
 * The slice of oneDNN 2.6's C API (dnnl.h, dnnl_types.h) that csn calls through Deno's FFI:
 * function signatures, the enum values used, and the sizes of the structs it fills.
 *
 * Values are those of oneDNN 2.6 (Debian's libdnnl2 2.6.3), read from its headers with a C
 * compiler; the 2.x ABI keeps them stable. Op descriptors are opaque structs that the caller
 * allocates: the buffers here are rounded up from their sizeof on x86-64.
 */

export const STRUCT_BYTES = {
  memoryDesc: 696,
  /** Largest of the op descriptors used (convolution: 5976 bytes). */
  opDesc: 8192,
  execArg: 16,
} as const;

export const DNNL_MAX_NDIMS = 12;

export const STATUS_NAMES: Record<number, string> = {
  0: "success",
  1: "out_of_memory",
  2: "invalid_arguments",
  3: "unimplemented",
  4: "iterator_ends",
  5: "runtime_error",
  6: "not_required",
};

export const ENGINE_CPU = 1;
export const STREAM_DEFAULT_FLAGS = 1;
export const DATA_F32 = 3;
export const DATA_U8 = 6;

/** Format tags: activations NHWC (logical dims N, C, H, W), filters HWIO (logical O, I, H, W);
 * `any` lets a primitive pick its own (blocked) layout. */
export const TAG = { any: 1, x: 2, nc: 3, nhwc: 20, hwio: 30 } as const;

export const PROP = {
  forwardTraining: 64,
  forwardInference: 96,
  backward: 128,
  backwardData: 160,
  backwardWeights: 192,
} as const;

export const ALG = {
  convolutionDirect: 0x1,
  eltwiseRelu: 0x1f,
  eltwiseReluUseDst: 0x100,
  poolingMax: 0x1ff,
  poolingAvgExcludePadding: 0x3ff,
  binaryAdd: 0x1fff0,
} as const;

export const BN_FLAGS = {
  useGlobalStats: 0x1,
  fuseNormRelu: 0x4,
  useScale: 0x8,
  useShift: 0x10,
} as const;

export const QUERY = {
  implInfoStr: 8,
  srcMd: 129,
  diffSrcMd: 130,
  weightsMd: 131,
  diffWeightsMd: 132,
  dstMd: 133,
  diffDstMd: 134,
  workspaceMd: 135,
} as const;

export const ARG = {
  src: 1,
  src1: 2,
  dst: 17,
  weights: 33,
  bias: 41,
  mean: 49,
  variance: 50,
  scale: 51,
  shift: 52,
  workspace: 64,
  diffSrc: 129,
  diffDst: 145,
  diffWeights: 161,
  diffScale: 255,
  diffShift: 256,
} as const;

/** dnnl_cpu_isa_t values as 2.6 names them (what `dnnl_get_effective_cpu_isa` returns). */
export const ISA_NAMES: Record<number, string> = {
  0x0: "all",
  0x1: "sse41",
  0x3: "avx",
  0x7: "avx2",
  0x407: "avx2_vnni",
  0xf: "avx512_mic",
  0x1f: "avx512_mic_4ops",
  0x27: "avx512_core",
  0x67: "avx512_core_vnni",
  0xe7: "avx512_core_bf16",
  0x3e7: "avx512_core_amx",
};

// Handles and addresses cross as integers ("usize"), not Deno pointer objects: Deno's pointer
// API needs an unscoped --allow-ffi, and the tasks allow FFI only for the libraries csn loads.
const p = "usize" as const, b = "buffer" as const, i32 = "i32" as const;

export const SYMBOLS = {
  dnnl_version: { parameters: [], result: p },
  dnnl_get_effective_cpu_isa: { parameters: [], result: i32 },
  dnnl_engine_create: { parameters: [b, i32, "usize"], result: i32 },
  dnnl_stream_create: { parameters: [b, p, "u32"], result: i32 },
  dnnl_memory_desc_init_by_tag: { parameters: [b, i32, b, i32, i32], result: i32 },
  dnnl_memory_desc_get_size: { parameters: [p], result: "usize" },
  dnnl_memory_create: { parameters: [b, p, p, p], result: i32 },
  dnnl_memory_create_from_buffer: {
    name: "dnnl_memory_create",
    parameters: [b, b, p, p],
    result: i32,
  },
  dnnl_memory_set_data_handle: { parameters: [p, p], result: i32 },
  /** The same call given a JS buffer: with get_data_handle, how csn learns a buffer's address. */
  dnnl_memory_set_data_handle_buffer: {
    name: "dnnl_memory_set_data_handle",
    parameters: [p, b],
    result: i32,
  },
  dnnl_memory_get_data_handle: { parameters: [p, b], result: i32 },
  dnnl_memory_destroy: { parameters: [p], result: i32 },
  dnnl_primitive_attr_create: { parameters: [b], result: i32 },
  dnnl_primitive_attr_set_post_ops: { parameters: [p, p], result: i32 },
  dnnl_primitive_attr_destroy: { parameters: [p], result: i32 },
  dnnl_post_ops_create: { parameters: [b], result: i32 },
  dnnl_post_ops_append_eltwise: { parameters: [p, "f32", i32, "f32", "f32"], result: i32 },
  dnnl_post_ops_append_sum: { parameters: [p, "f32"], result: i32 },
  dnnl_post_ops_destroy: { parameters: [p], result: i32 },
  dnnl_reorder_primitive_desc_create: { parameters: [b, p, p, p, p, p], result: i32 },
  dnnl_memory_desc_equal: { parameters: [p, p], result: i32 },
  dnnl_primitive_desc_create: { parameters: [b, b, p, p, p], result: i32 },
  dnnl_primitive_desc_query: { parameters: [p, i32, i32, b], result: i32 },
  dnnl_primitive_desc_query_md: { parameters: [p, i32, i32], result: p },
  dnnl_primitive_desc_destroy: { parameters: [p], result: i32 },
  dnnl_primitive_create: { parameters: [b, p], result: i32 },
  dnnl_primitive_execute: { parameters: [p, p, i32, b], result: i32 },
  dnnl_primitive_destroy: { parameters: [p], result: i32 },
  dnnl_convolution_forward_desc_init: {
    parameters: [b, i32, i32, b, b, b, b, b, b, b],
    result: i32,
  },
  dnnl_convolution_backward_data_desc_init: {
    parameters: [b, i32, b, b, b, b, b, b],
    result: i32,
  },
  dnnl_convolution_backward_weights_desc_init: {
    parameters: [b, i32, b, b, b, b, b, b, b],
    result: i32,
  },
  dnnl_batch_normalization_forward_desc_init: {
    parameters: [b, i32, b, "f32", "u32"],
    result: i32,
  },
  dnnl_batch_normalization_backward_desc_init: {
    parameters: [b, i32, b, b, "f32", "u32"],
    result: i32,
  },
  dnnl_eltwise_forward_desc_init: { parameters: [b, i32, i32, b, "f32", "f32"], result: i32 },
  dnnl_eltwise_backward_desc_init: { parameters: [b, i32, b, b, "f32", "f32"], result: i32 },
  dnnl_pooling_v2_forward_desc_init: {
    parameters: [b, i32, i32, b, b, b, b, b, b, b],
    result: i32,
  },
  dnnl_pooling_v2_backward_desc_init: { parameters: [b, i32, b, b, b, b, b, b, b], result: i32 },
  dnnl_binary_desc_init: { parameters: [b, i32, b, b, b], result: i32 },
} as const satisfies Deno.ForeignLibraryInterface;

/** OpenMP's thread-count setter: oneDNN in Debian runs on libgomp's thread pool. */
export const GOMP_SYMBOLS = {
  omp_set_num_threads: { parameters: [i32], result: "void" },
  omp_get_max_threads: { parameters: [], result: i32 },
} as const satisfies Deno.ForeignLibraryInterface;

/** A native address or oneDNN handle, as an integer (0n: none): not a Deno pointer object,
 * whose API needs an unscoped --allow-ffi. */
export type Pointer = bigint;

/** The oneDNN functions of SYMBOLS, as loaded. */
export type DnnlSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
