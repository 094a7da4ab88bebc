/**
 * A minimal assembler for tiny WebAssembly modules with 128-bit SIMD loops that work on the
 * tfjs wasm heap itself: the module imports the backend's WebAssembly.Memory, so its loops read
 * and write tensors in place. Wasm's f32x4 add, sub, mul, div and sqrt are IEEE float32
 * operations, correctly rounded lane by lane and never contracted into fused multiply-adds, so
 * a loop gives the bits of the same float32 operations done one value at a time. Modules are
 * assembled from opcodes here: no toolchain is needed.
 */

export const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
const LOCAL_GET = 0x20, I32_CONST = 0x41, I32_ADD = 0x6a, I32_GE_U = 0x4f;
const BLOCK = 0x02, LOOP = 0x03, BR = 0x0c, BR_IF = 0x0d, END = 0x0b, VOID = 0x40;
export const LOCAL_SET = 0x21;
const simd = (op: number) => [0xfd, ...uleb(op)];
/** v128.load / v128.store with a 4-byte alignment hint, offset 0. */
export const LOAD = [...simd(0x00), 2, 0], STORE = [...simd(0x0b), 2, 0];
export const SPLAT = simd(0x13), SQRT = simd(0xe3), ADD = simd(0xe4), SUB = simd(0xe5);
export const MUL = simd(0xe6), DIV = simd(0xe7);

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

export const get = (local: number) => [LOCAL_GET, local];
/** The byte address base + i (both locals). */
export const at = (base: number, i: number) => [...get(base), ...get(i), I32_ADD];

/** for (i = 0; i < bytes; i += 16) body — `i` a zeroed i32 local. */
export function vectorLoop(i: number, bytes: number, body: number[]): number[] {
  return [
    ...[BLOCK, VOID, LOOP, VOID, ...get(i), ...get(bytes), I32_GE_U, BR_IF, 1],
    ...body,
    ...[...get(i), I32_CONST, 16, I32_ADD, LOCAL_SET, i, BR, 0, END, END],
  ];
}

export interface SimdFunction {
  readonly name: string;
  /** Extra locals after the params: [count, type] runs. */
  readonly locals: readonly (readonly [number, number])[];
  readonly code: readonly number[];
}

/** A module importing env.memory whose functions all take `params` and return nothing. */
export function simdModule(
  params: readonly number[],
  functions: readonly SimdFunction[],
): Uint8Array<ArrayBuffer> {
  const type = [0x60, ...vec(params.map((p) => [p])), 0];
  const bodies = functions.map((f) => {
    const code = [...vec(f.locals.map(([n, t]) => [n, t])), ...f.code, END];
    return [...uleb(code.length), ...code];
  });
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([type])),
    ...section(2, vec([[...text("env"), ...text("memory"), 0x02, 0x00, 0x00]])),
    ...section(3, vec(functions.map(() => [0]))),
    ...section(7, vec(functions.map((f, i) => [...text(f.name), 0x00, i]))),
    ...section(10, vec(bodies)),
  ]);
}

/** Instantiates `bytes` on `memory`, once per memory; null where wasm has no SIMD. */
export function simdInstance<T>(
  bytes: Uint8Array<ArrayBuffer>,
  cache: WeakMap<WebAssembly.Memory, T>,
  memory: WebAssembly.Memory,
): T | null {
  const known = cache.get(memory);
  if (known) return known;
  if (!WebAssembly.validate(bytes)) return null;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const exports = instance.exports as T;
  cache.set(memory, exports);
  return exports;
}

/** The WebAssembly.Memory of tfjs's wasm backend (also under the native backend), or null. */
export function heapMemory(backend: unknown): WebAssembly.Memory | null {
  const memory = (backend as { wasm?: { asm?: { memory?: unknown } } }).wasm?.asm?.memory;
  return memory instanceof WebAssembly.Memory ? memory : null;
}
