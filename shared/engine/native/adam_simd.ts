/**
 * Adam's element loop as a tiny WebAssembly module with 128-bit SIMD, run on the tfjs wasm
 * heap itself (the module imports the backend's WebAssembly.Memory, so no byte is copied).
 * Four lanes at a time, about four times the scalar loop's speed (adam_loop.ts). Wasm's
 * f32x4 add, sub, mul, div and sqrt are IEEE float32 operations, correctly rounded lane by
 * lane and never contracted into fused multiply-adds, so the bits equal the scalar loop's.
 * The module is assembled here from its opcodes (no toolchain needed); its text form:
 *
 *   (func (export "adam") (param $p $m $v $g $p2 $m2 $v2 $bytes i32)
 *         (param $b1 $c1 $b2 $c2 $eps $step $root f32)
 *     for i in 0, 16, .. < bytes:
 *       gi = load(g+i); mi = load(m+i)*b1 + gi*c1; vi = load(v+i)*b2 + (gi*gi)*c2
 *       store(m2+i, mi); store(v2+i, vi)
 *       store(p2+i, load(p+i) - (mi / (sqrt(vi) / root + eps)) * step))
 */

const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
const LOCAL_GET = 0x20, LOCAL_SET = 0x21, I32_CONST = 0x41, I32_ADD = 0x6a, I32_GE_U = 0x4f;
const BLOCK = 0x02, LOOP = 0x03, BR = 0x0c, BR_IF = 0x0d, END = 0x0b, VOID = 0x40;
const simd = (op: number) => [0xfd, ...uleb(op)];
const LOAD = [...simd(0x00), 2, 0], STORE = [...simd(0x0b), 2, 0]; // align 4 bytes, offset 0
const SPLAT = simd(0x13), SQRT = simd(0xe3), ADD = simd(0xe4), SUB = simd(0xe5);
const MUL = simd(0xe6), DIV = simd(0xe7);

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n ? byte | 0x80 : byte);
  } while (n);
  return out;
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const text = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];

// Params 0-7: the seven arrays' byte addresses and the byte count; 8-14: the scalars.
const [P, M, V, G, P2, M2, V2, BYTES] = [0, 1, 2, 3, 4, 5, 6, 7];
const I = 15, GI = 16, MI = 17, VI = 18; // locals; 19-25: the scalars splatted
const splatted = (param: number) => param + 11;
const get = (i: number) => [LOCAL_GET, i];
const at = (base: number) => [...get(base), ...get(I), I32_ADD];

function body(): number[] {
  const splats = [8, 9, 10, 11, 12, 13, 14].flatMap((s) => [
    ...get(s),
    ...SPLAT,
    LOCAL_SET,
    splatted(s),
  ]);
  const loop = [
    ...[...get(I), ...get(BYTES), I32_GE_U, BR_IF, 1],
    ...[...at(G), ...LOAD, LOCAL_SET, GI],
    ...[...at(M), ...LOAD, ...get(splatted(8)), ...MUL, ...get(GI), ...get(splatted(9)), ...MUL],
    ...[...ADD, LOCAL_SET, MI],
    ...[...at(V), ...LOAD, ...get(splatted(10)), ...MUL, ...get(GI), ...get(GI), ...MUL],
    ...[...get(splatted(11)), ...MUL, ...ADD, LOCAL_SET, VI],
    ...[...at(M2), ...get(MI), ...STORE, ...at(V2), ...get(VI), ...STORE],
    ...[...at(P2), ...at(P), ...LOAD, ...get(MI), ...get(VI), ...SQRT, ...get(splatted(14))],
    ...[...DIV, ...get(splatted(12)), ...ADD, ...DIV, ...get(splatted(13)), ...MUL, ...SUB],
    ...STORE,
    ...[...get(I), I32_CONST, 16, I32_ADD, LOCAL_SET, I, BR, 0],
  ];
  const locals = vec([[1, I32], [10, V128]]);
  return [...locals, ...splats, BLOCK, VOID, LOOP, VOID, ...loop, END, END, END];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const type = [0x60, ...vec([...Array(8).fill([I32]), ...Array(7).fill([F32])]), 0];
  const code = body();
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([type])),
    ...section(2, vec([[...text("env"), ...text("memory"), 0x02, 0x00, 0x00]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...text("adam"), 0x00, 0]])),
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ]);
}

/** adam(p, m, v, g, p2, m2, v2, bytes, b1, c1, b2, c2, eps, step, root): byte addresses in
 * the memory, `bytes` a multiple of 16 (the caller finishes a tail of 1-3 values). */
export type SimdAdam = (...args: number[]) => void;

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<WebAssembly.Memory, SimdAdam>();

/** The SIMD loop bound to `memory`, or null where this runtime's wasm has no SIMD. */
export function simdAdam(memory: WebAssembly.Memory): SimdAdam | null {
  const known = instances.get(memory);
  if (known) return known;
  const bytes = moduleBytes();
  if (!WebAssembly.validate(bytes)) return null;
  compiled ??= new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(compiled, { env: { memory } });
  const adam = instance.exports.adam as SimdAdam;
  instances.set(memory, adam);
  return adam;
}
