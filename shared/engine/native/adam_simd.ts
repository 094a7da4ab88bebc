/**
 * Adam's element loop in wasm SIMD on the tfjs heap (simd_module.ts): four lanes at a time,
 * about four times the scalar loop's speed (adam_loop.ts), with the same bits. In text form:
 *
 *   (func (export "adam") (param $p $m $v $g $p2 $m2 $v2 $bytes i32)
 *         (param $b1 $c1 $b2 $c2 $eps $step $root f32)
 *     for i in 0, 16, .. < bytes:
 *       gi = load(g+i); mi = load(m+i)*b1 + gi*c1; vi = load(v+i)*b2 + (gi*gi)*c2
 *       store(m2+i, mi); store(v2+i, vi)
 *       store(p2+i, load(p+i) - (mi / (sqrt(vi) / root + eps)) * step))
 */
import {
  ADD,
  at,
  DIV,
  F32,
  get,
  I32,
  LOAD,
  LOCAL_SET,
  MUL,
  simdInstance,
  simdModule,
  SPLAT,
  SQRT,
  STORE,
  SUB,
  V128,
  vectorLoop,
} from "./simd_module.ts";

// Params 0-7: the seven arrays' byte addresses and the byte count; 8-14: the scalars.
const [P, M, V, G, P2, M2, V2, BYTES] = [0, 1, 2, 3, 4, 5, 6, 7];
const I = 15, GI = 16, MI = 17, VI = 18; // locals; 19-25: the scalars splatted
const B1 = 19, C1 = 20, B2 = 21, C2 = 22, EPS = 23, STEP = 24, ROOT = 25;

function code(): number[] {
  const splats = [8, 9, 10, 11, 12, 13, 14].flatMap((
    s,
  ) => [...get(s), ...SPLAT, LOCAL_SET, s + 11]);
  const load = (base: number) => [...at(base, I), ...LOAD];
  const body = [
    ...[...load(G), LOCAL_SET, GI],
    ...[...load(M), ...get(B1), ...MUL, ...get(GI), ...get(C1), ...MUL, ...ADD, LOCAL_SET, MI],
    ...[...load(V), ...get(B2), ...MUL, ...get(GI), ...get(GI), ...MUL, ...get(C2), ...MUL],
    ...[...ADD, LOCAL_SET, VI],
    ...[...at(M2, I), ...get(MI), ...STORE, ...at(V2, I), ...get(VI), ...STORE],
    ...[...at(P2, I), ...load(P), ...get(MI), ...get(VI), ...SQRT, ...get(ROOT), ...DIV],
    ...[...get(EPS), ...ADD, ...DIV, ...get(STEP), ...MUL, ...SUB, ...STORE],
  ];
  return [...splats, ...vectorLoop(I, BYTES, body)];
}

const BYTES_OF_MODULE = simdModule([...Array(8).fill(I32), ...Array(7).fill(F32)], [
  { name: "adam", locals: [[1, I32], [10, V128]], code: code() },
]);

/** adam(p, m, v, g, p2, m2, v2, bytes, b1, c1, b2, c2, eps, step, root): byte addresses in
 * the memory, `bytes` a multiple of 16 (the caller finishes a tail of 1-3 values). */
export type SimdAdam = (...args: number[]) => void;

const instances = new WeakMap<WebAssembly.Memory, { adam: SimdAdam }>();

/** The SIMD loop bound to `memory`, or null where this runtime's wasm has no SIMD. */
export function simdAdam(memory: WebAssembly.Memory): SimdAdam | null {
  return simdInstance(BYTES_OF_MODULE, instances, memory)?.adam ?? null;
}
