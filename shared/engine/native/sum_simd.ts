/**
 * The micro-batch gradient sum's loops in wasm SIMD on the tfjs heap (simd_module.ts), four
 * lanes at a time, the bits of the scalar float32 loops:
 *
 *   scale(out, g, bytes, w):      for i in 0, 16, .. < bytes: store(out+i, load(g+i) * w)
 *   accumulate(out, g, bytes, w): for i in 0, 16, .. < bytes:
 *                                   store(out+i, load(out+i) + load(g+i) * w)
 */
import {
  ADD,
  at,
  F32,
  get,
  I32,
  LOAD,
  LOCAL_SET,
  MUL,
  simdInstance,
  simdModule,
  SPLAT,
  STORE,
  V128,
  vectorLoop,
} from "./simd_module.ts";

const OUT = 0, G = 1, BYTES = 2, W = 3, I = 4, WS = 5;
const splat = [...get(W), ...SPLAT, LOCAL_SET, WS];
const scaled = [...at(G, I), ...LOAD, ...get(WS), ...MUL];
const locals = [[1, I32], [1, V128]] as const;

const BYTES_OF_MODULE = simdModule([I32, I32, I32, F32], [
  {
    name: "scale",
    locals,
    code: [...splat, ...vectorLoop(I, BYTES, [...at(OUT, I), ...scaled, ...STORE])],
  },
  {
    name: "accumulate",
    locals,
    code: [
      ...splat,
      ...vectorLoop(I, BYTES, [...at(OUT, I), ...at(OUT, I), ...LOAD, ...scaled, ...ADD, ...STORE]),
    ],
  },
]);

/** (out, g, bytes, w): byte addresses in the memory, `bytes` a multiple of 16. */
export interface SimdSum {
  readonly scale: (out: number, g: number, bytes: number, w: number) => void;
  readonly accumulate: (out: number, g: number, bytes: number, w: number) => void;
}

const instances = new WeakMap<WebAssembly.Memory, SimdSum>();

/** The loops bound to `memory`, or null where this runtime's wasm has no SIMD. */
export function simdSum(memory: WebAssembly.Memory): SimdSum | null {
  return simdInstance(BYTES_OF_MODULE, instances, memory);
}
