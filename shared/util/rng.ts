/**
 * A small seeded PRNG (mulberry32) for reproducible sampling: dataset splits, triplets,
 * shuffles, initialisation. The whole state is one uint32, so it is trivial to checkpoint
 * (`state`) and restore (`Rng.fromState`). Not for cryptography.
 */

const GOLDEN = 0x9e3779b9;

/** splitmix32's finaliser: spreads nearby seeds (0, 1, 2...) over the whole uint32 range. */
function mix32(x: number): number {
  let z = (x + GOLDEN) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a of a string, so that named streams ("split", "triplets/train") get their own seeds. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return h >>> 0;
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new TypeError(`Invalid RNG seed ${seed}: expected a safe integer`);
  }
}

export class Rng {
  #state: number;

  /** Seeds with any safe integer; nearby seeds give unrelated streams. */
  constructor(seed: number) {
    checkSeed(seed);
    // Fold the high bits in so seeds above 2^32 still matter.
    this.#state = mix32((seed >>> 0) ^ mix32(Math.floor(seed / 2 ** 32) >>> 0));
  }

  /** An independent stream for a named purpose, e.g. `Rng.derive(seed, "triplets", "val")`. */
  static derive(seed: number, ...streams: readonly (string | number)[]): Rng {
    checkSeed(seed);
    let s = mix32(seed >>> 0) ^ mix32(Math.floor(seed / 2 ** 32) >>> 0);
    for (const part of streams) {
      s = mix32(s ^ (typeof part === "number" ? mix32(part >>> 0) : hashString(part)));
    }
    return Rng.fromState(s);
  }

  /** Restores a generator saved with `state`. */
  static fromState(state: number): Rng {
    if (!Number.isInteger(state) || state < 0 || state > 0xffffffff) {
      throw new RangeError(`Invalid RNG state ${state}: expected a uint32`);
    }
    const rng = new Rng(0);
    rng.#state = state;
    return rng;
  }

  /** The current state (a uint32); `Rng.fromState(rng.state)` continues the same sequence. */
  get state(): number {
    return this.#state >>> 0;
  }

  /** Next uint32 (mulberry32). */
  nextUint32(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). The bias (at most n / 2^32) is negligible for array sizes. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff) {
      throw new RangeError(`Rng.int(${n}): expected an integer in [1, 2^32]`);
    }
    return Math.floor(this.next() * n);
  }

  /** Standard normal sample (Box-Muller; one of the pair is discarded for simplicity). */
  normal(): number {
    const u = 1 - this.next(); // (0, 1]: log(u) stays finite
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}
