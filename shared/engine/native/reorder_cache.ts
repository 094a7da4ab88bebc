/**
 * Reordered copies of tensors, kept for as long as the tensor's data lives. A training step
 * runs the backbone three times per micro-batch (anchor, far, close) with the same weights, and
 * backward-data reads them again: each filter was reordered from HWIO into the primitive's
 * layout (and, in bf16, rounded) four times per micro-batch, though weights change only at the
 * Adam step, which makes new tensors. In bf16, the forward's rounded input serves
 * backward-weights, and the incoming gradient's rounded copy serves both backward passes.
 *
 * Keyed by the tfjs data id (an object, never reused) and the target layout. tfjs tensors are
 * immutable (Variable.assign swaps the data id), so a copy stays right until the data is
 * disposed; the backend's disposeData is wrapped to drop the copies then.
 */
import type { Dnnl, Pointer } from "./dnnl.ts";

/** The parts of tfjs's wasm backend the cache watches. */
export interface DisposingBackend {
  disposeData(dataId: object, force?: boolean): boolean;
  readonly dataIdMap: { has(dataId: object): boolean };
}

interface Copy {
  readonly bytes: Uint8Array;
  readonly address: Pointer;
}

/** Buffers of released copies by size, handed out again (the same sizes recur every step). */
class BufferPool {
  readonly #free = new Map<number, Copy[]>();
  #bytes = 0;

  constructor(private readonly limit: number) {}

  take(dnnl: Dnnl, size: number): Copy {
    const reused = this.#free.get(size)?.pop();
    if (reused) {
      this.#bytes -= size;
      return reused;
    }
    const bytes = new Uint8Array(size);
    return { bytes, address: dnnl.addressOf(bytes) };
  }

  give(copy: Copy): void {
    const size = copy.bytes.byteLength;
    if (this.#bytes + size > this.limit) return; // left to the garbage collector
    const list = this.#free.get(size) ?? [];
    list.push(copy);
    this.#free.set(size, list);
    this.#bytes += size;
  }

  get bytes(): number {
    return this.#bytes;
  }
}

/** Pooled bytes kept for reuse at most (larger than a paper112 step's copies). */
const POOL_LIMIT = 512 * 1024 * 1024;

export class ReorderCache {
  /** data id -> layout id -> copy. */
  readonly #entries = new Map<object, Map<number, Copy>>();
  readonly #layouts = new Map<string, number>();
  readonly #watched = new WeakSet<object>();
  /** data id -> what else must go when tfjs frees that data (see onDispose). */
  readonly #onDispose = new Map<object, (() => void)[]>();
  readonly #pool = new BufferPool(POOL_LIMIT);
  #bytes = 0;
  /** The most bytes kept at once (for profiles; reset it to measure a span). */
  peakBytes = 0;
  /** Off: every reorder goes to the scratch arena again (tests, benchmarks). */
  enabled = true;
  /** Copies made and copies found (for tests and profiles). */
  stores = 0;
  hits = 0;

  /** A small id for a layout, from the bytes of its memory descriptor. */
  layoutId(descriptor: Uint8Array): number {
    const key = Array.from(descriptor, (b) => b.toString(16).padStart(2, "0")).join("");
    let id = this.#layouts.get(key);
    if (id === undefined) {
      id = this.#layouts.size;
      this.#layouts.set(key, id);
    }
    return id;
  }

  /** Drops copies when `backend` disposes their data (wraps its disposeData, once). */
  watch(backend: DisposingBackend): void {
    if (this.#watched.has(backend)) return;
    this.#watched.add(backend);
    const dispose = backend.disposeData.bind(backend);
    backend.disposeData = (dataId: object, force?: boolean) => {
      const freed = dispose(dataId, force);
      if (backend.dataIdMap.has(dataId)) return freed; // still referenced
      if (this.#entries.has(dataId)) this.release(dataId);
      const then = this.#onDispose.get(dataId);
      if (then) {
        this.#onDispose.delete(dataId);
        for (const fn of then) fn();
      }
      return freed;
    };
  }

  /** Runs `fn` once when a watched backend frees `dataId`'s data: for other things kept with a
   * tensor's data (evaluation's folded weights, folded_conv.ts). */
  onDispose(dataId: object, fn: () => void): void {
    const list = this.#onDispose.get(dataId);
    if (list) list.push(fn);
    else this.#onDispose.set(dataId, [fn]);
  }

  /** The copy of `dataId`'s data in `layout`, if one is kept. */
  find(dataId: object, layout: number): Pointer | null {
    const copy = this.#entries.get(dataId)?.get(layout);
    if (!copy) return null;
    this.hits++;
    return copy.address;
  }

  /** A new copy of `size` bytes, written by `fill` at the address given, kept until `dataId`
   * is disposed (not kept if `fill` throws). */
  store(
    dnnl: Dnnl,
    dataId: object,
    layout: number,
    size: number,
    fill: (address: Pointer) => void,
  ): Pointer {
    const old = this.#entries.get(dataId)?.get(layout);
    if (old) return old.address;
    const copy = this.#pool.take(dnnl, size);
    try {
      fill(copy.address);
    } catch (error) {
      this.#pool.give(copy);
      throw error;
    }
    let byLayout = this.#entries.get(dataId);
    if (!byLayout) {
      byLayout = new Map();
      this.#entries.set(dataId, byLayout);
    }
    byLayout.set(layout, copy);
    this.#bytes += size;
    this.peakBytes = Math.max(this.peakBytes, this.#bytes);
    this.stores++;
    return copy.address;
  }

  release(dataId: object): void {
    const byLayout = this.#entries.get(dataId);
    if (!byLayout) return;
    this.#entries.delete(dataId);
    for (const copy of byLayout.values()) {
      this.#bytes -= copy.bytes.byteLength;
      this.#pool.give(copy);
    }
  }

  /** Tensors with kept copies. */
  get tensors(): number {
    return this.#entries.size;
  }

  /** Bytes in kept copies (not counting the pool). */
  get bytes(): number {
    return this.#bytes;
  }
}
