/**
 * safetensors (Hugging Face) encoder / decoder, so that checkpoints open in PyTorch, numpy,
 * Rust... without this project. Layout:
 *   8 bytes   N, unsigned 64-bit little-endian: the header's byte length
 *   N bytes   UTF-8 JSON object: name -> {"dtype", "shape", "data_offsets": [begin, end)}
 *             plus an optional "__metadata__" string -> string map; space-padded
 *   rest      the byte buffer; offsets are relative to its start, little-endian, C order,
 *             and the tensors cover it exactly (no holes, no overlaps)
 */

import { ARRAYS, BYTES, isDType, type SafeTensor } from "./dtype.ts";

export interface SafetensorsFile {
  readonly tensors: Map<string, SafeTensor>;
  readonly metadata: Record<string, string>;
}

/** The reference implementation refuses larger headers. */
const MAX_HEADER = 100 * 1024 * 1024;

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error(
    "Cannot use safetensors.ts: it assumes a little-endian platform, this one is big-endian",
  );
}

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serialises tensors (8-byte-wide dtypes first so every tensor is aligned in the file). */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafeTensor>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const names = [...tensors.keys()].sort((a, b) => {
    const d = BYTES[tensors.get(b)!.dtype] - BYTES[tensors.get(a)!.dtype];
    return d !== 0 ? d : a < b ? -1 : a > b ? 1 : 0;
  });
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    if (name === "__metadata__") {
      throw new TypeError(
        `Cannot write safetensors: "__metadata__" cannot name a tensor, it is the header's ` +
          `metadata key`,
      );
    }
    const t = tensors.get(name)!;
    if (!isDType(t.dtype)) {
      throw new TypeError(
        `Cannot write safetensors tensor "${name}": unsupported dtype ${t.dtype}, expected one of ${
          Object.keys(ARRAYS).join(", ")
        }`,
      );
    }
    if (!(t.data instanceof ARRAYS[t.dtype])) {
      throw new TypeError(
        `Cannot write safetensors tensor "${name}": ${t.dtype} data must be a ${
          ARRAYS[t.dtype].name
        }`,
      );
    }
    if (t.shape.some((d) => !Number.isInteger(d) || d < 0) || elements(t.shape) !== t.data.length) {
      throw new RangeError(
        `Cannot write safetensors tensor "${name}": shape [${t.shape}] does not match its ` +
          `${t.data.length} values`,
      );
    }
    const end = offset + t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, end] };
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLen = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLen + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLen);
  let at = 8 + headerLen;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

/** Parses and checks a safetensors file; `source` names it in errors. Data is copied. */
export function decodeSafetensors(bytes: Uint8Array, source = "<bytes>"): SafetensorsFile {
  const fail = (why: string) => new SyntaxError(`Cannot read safetensors "${source}": ${why}`);
  if (bytes.length < 8) throw fail(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) {
    throw fail(`header length ${n} exceeds the file (${bytes.length} bytes) or 100 MB`);
  }
  const headerEnd = 8 + Number(n);
  let header: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, headerEnd));
    if (!text.startsWith("{")) throw new Error("it does not start with '{'");
    header = JSON.parse(text);
  } catch (e) {
    throw fail(`the header is not a UTF-8 JSON object (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw fail("the header is not a JSON object");
  }
  const bufferLen = bytes.length - headerEnd;
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, SafeTensor>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      for (const [k, v] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
        if (typeof v !== "string") throw fail(`__metadata__.${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDType(e.dtype)) {
      throw fail(
        `tensor "${name}" has dtype ${JSON.stringify(e.dtype)}, expected one of ` +
          Object.keys(BYTES).join(", "),
      );
    }
    const shape = e.shape, offs = e.data_offsets;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw fail(`tensor "${name}" has shape ${JSON.stringify(shape)}, expected integers >= 0`);
    }
    if (
      !Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o)) ||
      offs[0] < 0 || offs[1] < offs[0] || offs[1] > bufferLen
    ) {
      throw fail(
        `tensor "${name}" has data_offsets ${JSON.stringify(offs)}, expected ` +
          `[begin, end] within the ${bufferLen}-byte buffer`,
      );
    }
    const [begin, end] = offs as [number, number];
    const size = elements(shape) * BYTES[e.dtype];
    if (end - begin !== size) {
      throw fail(
        `tensor "${name}" spans ${end - begin} bytes, but ${e.dtype} [${shape}] ` +
          `needs ${size}`,
      );
    }
    spans.push({ name, begin, end });
    const copy = bytes.slice(headerEnd + begin, headerEnd + end); // fresh, aligned buffer
    tensors.set(name, { dtype: e.dtype, shape, data: new ARRAYS[e.dtype](copy.buffer) });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const s of spans) {
    if (s.begin !== expected) {
      throw fail(
        `tensor "${s.name}" starts at byte ${s.begin}, expected ${expected} ` +
          `(tensors must cover the buffer without holes or overlaps)`,
      );
    }
    expected = s.end;
  }
  if (expected !== bufferLen) {
    throw fail(`tensors cover ${expected} bytes of a ${bufferLen}-byte buffer`);
  }
  return { tensors, metadata };
}
