/**
 * The few protobuf wire-format pieces the TensorBoard event files need: varints, 64- and
 * 32-bit fixed fields and length-delimited fields, written by a small growable writer and read
 * by a cursor that names the offset of anything malformed.
 */

export const WireType = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const utf8 = new TextEncoder();

export class ProtoWriter {
  #bytes = new Uint8Array(64);
  #length = 0;

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + extra));
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
  }

  #byte(value: number): void {
    this.#reserve(1);
    this.#bytes[this.#length++] = value;
  }

  /** An unsigned or two's-complement 64-bit varint (negative numbers take 10 bytes). */
  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.#byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#byte(Number(v));
    return this;
  }

  tag(field: number, wireType: WireType): this {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) {
      throw new RangeError(
        `Cannot write protobuf field ${field}: expected a whole number from 1 to ${0x1fffffff}`,
      );
    }
    return this.varint(field * 8 + wireType);
  }

  double(field: number, value: number): this {
    this.tag(field, WireType.fixed64);
    this.#reserve(8);
    new DataView(this.#bytes.buffer).setFloat64(this.#length, value, true);
    this.#length += 8;
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, WireType.fixed32);
    this.#reserve(4);
    new DataView(this.#bytes.buffer).setFloat32(this.#length, value, true);
    this.#length += 4;
    return this;
  }

  int64(field: number, value: number | bigint): this {
    return this.tag(field, WireType.varint).varint(value);
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WireType.bytes).varint(value.length);
    this.#reserve(value.length);
    this.#bytes.set(value, this.#length);
    this.#length += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }
}

/** One field as read from the wire: varints as bigint, fixed fields as raw little-endian views. */
export type ProtoField =
  | { field: number; wireType: 0; value: bigint }
  | { field: number; wireType: 1 | 5; value: DataView }
  | { field: number; wireType: 2; value: Uint8Array };

export class ProtoReader {
  #pos = 0;
  constructor(readonly bytes: Uint8Array, readonly what: string) {}

  get done(): boolean {
    return this.#pos >= this.bytes.length;
  }

  #fail(message: string): never {
    throw new SyntaxError(`Cannot decode ${this.what}: ${message} at byte ${this.#pos}`);
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.#pos >= this.bytes.length) this.#fail("truncated varint");
      const b = this.bytes[this.#pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    return this.#fail("varint longer than 10 bytes");
  }

  #take(n: number): Uint8Array {
    if (this.#pos + n > this.bytes.length) {
      this.#fail(`field needs ${n} bytes but only ${this.bytes.length - this.#pos} remain`);
    }
    const out = this.bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  next(): ProtoField {
    const key = this.varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) this.#fail("field number 0");
    switch (wireType) {
      case 0:
        return { field, wireType, value: this.varint() };
      case 1:
      case 5: {
        const raw = this.#take(wireType === 1 ? 8 : 4);
        return { field, wireType, value: new DataView(raw.buffer, raw.byteOffset, raw.length) };
      }
      case 2: {
        const length = this.varint();
        if (length > BigInt(this.bytes.length)) this.#fail(`length ${length} exceeds the message`);
        return { field, wireType, value: this.#take(Number(length)) };
      }
      default:
        return this.#fail(`unsupported wire type ${wireType} (field ${field})`);
    }
  }
}

/** Reads a varint field as a signed int64 number (exact up to 2^53). */
export function int64Value(value: bigint): number {
  return Number(BigInt.asIntN(64, value));
}
