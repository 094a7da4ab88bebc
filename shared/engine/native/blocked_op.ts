/**
 * A primitive that runs in the layout oneDNN prefers (for convolutions on AVX2/AVX-512, the
 * channel-blocked nChw8c/nChw16c: several times faster than its NHWC path, which falls back to
 * im2col + GEMM). Tensors stay NHWC/HWIO in tfjs; each argument whose preferred layout differs
 * is reordered into a scratch arena before the call (inputs) or out of it after (outputs).
 */
import type { Dnnl, Pointer } from "./dnnl.ts";
import { Primitive } from "./primitive.ts";

export interface BlockedArg {
  /** DNNL_ARG_* id. */
  readonly arg: number;
  /** The tensor's own layout (as tfjs stores it). */
  readonly user: Uint8Array;
  /** The dnnl_query_*_md (and its index) that gives the primitive's layout for this arg. */
  readonly query: number;
  readonly index: number;
  readonly output: boolean;
}

export function inputArg(arg: number, user: Uint8Array, query: number, index = 0): BlockedArg {
  return { arg, user, query, index, output: false };
}

/** An input the primitive reads in exactly the tensor's own layout (a binary post-op's second
 * tensor, whose layout was fixed when the post-op was described): never reordered. */
export function fixedArg(arg: number, user: Uint8Array): BlockedArg {
  return { arg, user, query: FIXED, index: 0, output: false };
}

export function outputArg(arg: number, user: Uint8Array, query: number): BlockedArg {
  return { arg, user, query, index: 0, output: true };
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
}

const ALIGN = 64;
const FIXED = -1;

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
  ) {
    let offset = 0;
    this.#slots = args.map((a) => {
      if (a.query === FIXED) return null;
      const wanted = dnnl.queryMd(pd, a.query, a.index);
      if (!wanted) {
        throw new Error(`Cannot plan a oneDNN primitive: it reports no layout for arg ${a.arg}`);
      }
      if (dnnl.fn.dnnl_memory_desc_equal(dnnl.addressOf(a.user), wanted) === 1) return null;
      const [from, to] = a.output ? [wanted, a.user] : [a.user, wanted];
      const slot = { offset, reorder: dnnl.reorder(from, to) };
      offset += Math.ceil(Number(dnnl.fn.dnnl_memory_desc_get_size(wanted)) / ALIGN) * ALIGN;
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

  get implementation(): string {
    return this.#main.implementation;
  }

  /** Runs with the tensors' addresses, one per arg in the order given. */
  execute(addresses: readonly Pointer[]): void {
    const base = this.#bytes > 0 ? this.arena.base(this.dnnl, this.#bytes) : 0n;
    const inner = addresses.map((addr, i) => {
      const slot = this.#slots[i];
      if (!slot) return addr;
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
