/**
 * A primitive that runs in the layout oneDNN prefers (a convolution's filters: channel-blocked;
 * given HWIO weight gradients, oneDNN 2.6's backward-weights falls back to im2col + GEMM).
 * Tensors stay NHWC/HWIO in tfjs; each argument whose preferred layout differs is reordered
 * into a scratch arena before the call (inputs) or out of it after (outputs). An input marked
 * for reuse is reordered into a copy kept with its tensor (reorder_cache.ts) instead, and later
 * calls in the same layout read that copy.
 */
import { STRUCT_BYTES } from "./dnnl_abi.ts";
import type { Dnnl, Pointer } from "./dnnl.ts";
import { Primitive } from "./primitive.ts";
import type { ReorderCache } from "./reorder_cache.ts";

/** What happens to an input's reordered copy: made in the arena for this call only ("none"),
 * kept with the tensor ("keep": found, or made and kept), or read if kept ("find": used when
 * a caller before kept one, else made in the arena). */
export type Reuse = "none" | "keep" | "find";

export interface BlockedArg {
  /** DNNL_ARG_* id. */
  readonly arg: number;
  /** The tensor's own layout (as tfjs stores it). */
  readonly user: Uint8Array;
  /** The dnnl_query_*_md (and its index) that gives the primitive's layout for this arg. */
  readonly query: number;
  readonly index: number;
  readonly output: boolean;
  readonly reuse: Reuse;
}

export function inputArg(
  arg: number,
  user: Uint8Array,
  query: number,
  options: { index?: number; reuse?: Reuse } = {},
): BlockedArg {
  return {
    arg,
    user,
    query,
    index: options.index ?? 0,
    output: false,
    reuse: options.reuse ?? "none",
  };
}

export function outputArg(arg: number, user: Uint8Array, query: number): BlockedArg {
  return { arg, user, query, index: 0, output: true, reuse: "none" };
}

/** One reusable native scratch buffer for every blocked op of this thread (they run one at a
 * time); grown as needed. */
export class Arena {
  #bytes = new Uint8Array(0);
  #address = 0n;

  base(dnnl: Dnnl, size: number): Pointer {
    if (this.#bytes.byteLength < size) {
      this.#bytes = new Uint8Array(Math.ceil(size * 1.25));
      this.#address = dnnl.addressOf(this.#bytes);
    }
    return this.#address;
  }
}

interface Slot {
  readonly offset: number;
  readonly reorder: Primitive;
  readonly bytes: number;
  readonly reuse: Reuse;
  /** The target layout's id in the reorder cache (-1: not cached). */
  readonly layout: number;
}

const ALIGN = 64;

export class BlockedOp {
  readonly #main: Primitive;
  readonly #slots: (Slot | null)[];
  readonly #outputs: boolean[];
  readonly #bytes: number;

  constructor(
    readonly dnnl: Dnnl,
    pd: Pointer,
    primitive: Pointer,
    args: readonly BlockedArg[],
    private readonly arena: Arena,
    private readonly kept: ReorderCache | null = null,
  ) {
    let offset = 0;
    this.#slots = args.map((a) => {
      const wanted = dnnl.queryMd(pd, a.query, a.index);
      if (!wanted) {
        throw new Error(`Cannot plan a oneDNN primitive: it reports no layout for arg ${a.arg}`);
      }
      if (dnnl.fn.dnnl_memory_desc_equal(dnnl.addressOf(a.user), wanted) === 1) return null;
      const [from, to] = a.output ? [wanted, a.user] : [a.user, wanted];
      const bytes = Number(dnnl.fn.dnnl_memory_desc_get_size(wanted));
      const reuse = kept && !a.output ? a.reuse : "none";
      // The layout's identity is the user and target descriptors' bytes: equal bytes, equal
      // reorder, so a copy made by one primitive serves any other that wants the same.
      const layout = reuse === "none" ? -1 : kept!.layoutId(
        Uint8Array.of(
          ...a.user,
          ...dnnl.readBytes(wanted, STRUCT_BYTES.memoryDesc),
        ),
      );
      const slot = { offset, reorder: dnnl.reorder(from, to), bytes, reuse, layout };
      offset += Math.ceil(bytes / ALIGN) * ALIGN;
      return slot;
    });
    this.#bytes = offset;
    this.#outputs = args.map((a) => a.output);
    this.#main = new Primitive(
      dnnl,
      primitive,
      pd,
      args.map((a, i) => ({
        arg: a.arg,
        md: this.#slots[i] ? dnnl.queryMd(pd, a.query, a.index)! : a.user,
      })),
    );
  }

  /** Whether any argument is reordered (false: the primitive works on NHWC directly). */
  get reorders(): number {
    return this.#slots.filter((s) => s !== null).length;
  }

  /** Whether every output is written straight into its tensor (none goes through the arena):
   * what a sum post-op, which reads the output buffer, needs. */
  get outputsInPlace(): boolean {
    return this.#slots.every((slot, i) => slot === null || !this.#outputs[i]);
  }

  get implementation(): string {
    return this.#main.implementation;
  }

  /** Runs with the tensors' addresses, one per arg in the order given, and their data ids
   * (needed for the args marked for reuse). */
  execute(addresses: readonly Pointer[], dataIds: readonly object[] = []): void {
    const base = this.#bytes > 0 ? this.arena.base(this.dnnl, this.#bytes) : 0n;
    const inner = addresses.map((addr, i) => {
      const slot = this.#slots[i];
      if (!slot) return addr;
      const id = dataIds[i];
      if (slot.reuse !== "none" && id !== undefined && this.kept!.enabled) {
        const found = this.kept!.find(id, slot.layout);
        if (found !== null) return found;
        if (slot.reuse === "keep") {
          return this.kept!.store(
            this.dnnl,
            id,
            slot.layout,
            slot.bytes,
            (copy) => slot.reorder.execute([addr, copy]),
          );
        }
      }
      const scratch = base + BigInt(slot.offset);
      if (!this.#outputs[i]) slot.reorder.execute([addr, scratch]);
      return scratch;
    });
    this.#main.execute(inner);
    this.#slots.forEach((slot, i) => {
      if (slot && this.#outputs[i]) slot.reorder.execute([inner[i]!, addresses[i]!]);
    });
  }
}
