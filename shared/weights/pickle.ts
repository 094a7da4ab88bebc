/**
 * A minimal Python unpickler (protocols 2 to 5, binary opcodes only) for the data.pkl inside
 * PyTorch checkpoints. It never runs code: every global (GLOBAL / STACK_GLOBAL) is looked up
 * through `findGlobal`, which knows a short allow-list and refuses the rest by name.
 *
 * Python values map to: None -> null, bool -> boolean, int -> number (bigint beyond 2^53),
 * float -> number, str -> string, bytes -> Uint8Array, list -> array, tuple -> frozen array,
 * dict -> Map, set -> Set.
 */

/** A Python callable or class the caller allowed: REDUCE and NEWOBJ call `call(args)`. */
export class PyGlobal {
  constructor(
    readonly qualifiedName: string,
    readonly call: (args: readonly unknown[]) => unknown,
  ) {}
}

export interface UnpickleHooks {
  /** Resolves `module.name`; throws (naming it) when it is not supported. */
  findGlobal(module: string, name: string): PyGlobal;
  /** BINPERSID: turns a persistent id (for torch, a storage tuple) into a value. */
  persistentLoad(pid: unknown): unknown;
}

/** Names of the opcodes torch never writes, for the error message. */
const TEXT_OPCODES: Record<number, string> = {
  0x49: "INT",
  0x4c: "LONG",
  0x46: "FLOAT",
  0x53: "STRING",
  0x56: "UNICODE",
  0x70: "PUT",
  0x67: "GET",
  0x50: "PERSID",
  0x69: "INST",
  0x6f: "OBJ",
};

/** Runs the pickle in `bytes` and returns its result; `source` names it in errors. */
export function unpickle(bytes: Uint8Array, hooks: UnpickleHooks, source: string): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const latin1 = new TextDecoder("latin1");
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let at = 0; // start of the current opcode, for errors

  const fail = (what: string): never => {
    throw new SyntaxError(`Cannot unpickle ${source}: at byte ${at}, ${what}`);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) fail(`the data ends ${pos + n - bytes.length} bytes early`);
  };
  const u8 = () => (need(1), bytes[pos++]!);
  const u16 = () => (need(2), pos += 2, view.getUint16(pos - 2, true));
  const i32 = () => (need(4), pos += 4, view.getInt32(pos - 4, true));
  const u32 = () => (need(4), pos += 4, view.getUint32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is too large`);
    return Number(v);
  };
  const take = (n: number) => (need(n), pos += n, bytes.subarray(pos - n, pos));
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail("a GLOBAL name has no terminating newline");
    const s = latin1.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const text = (n: number) => {
    const raw = take(n);
    try {
      return utf8.decode(raw);
    } catch (e) {
      return fail(`a string is not valid UTF-8 (${(e as Error).message})`);
    }
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks.at(-1)!)) {
      fail("the stack is empty");
    }
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length === 0) fail("the stack is empty");
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail("no MARK to pop to");
    return stack.splice(m!);
  };
  const tuple = (items: unknown[]) => Object.freeze(items);
  const dictOf = (v: unknown, op: string): Map<unknown, unknown> => {
    if (!(v instanceof Map)) fail(`${op} on a ${typeName(v)}, expected a dict`);
    return v as Map<unknown, unknown>;
  };
  const listOf = (v: unknown, op: string): unknown[] => {
    if (!Array.isArray(v) || Object.isFrozen(v)) fail(`${op} on a ${typeName(v)}, expected a list`);
    return v as unknown[];
  };
  const callable = (v: unknown, op: string): PyGlobal => {
    if (!(v instanceof PyGlobal)) fail(`${op} on a ${typeName(v)}, expected a callable`);
    return v as PyGlobal;
  };
  const argsOf = (v: unknown, op: string): readonly unknown[] => {
    if (!Array.isArray(v)) fail(`${op} arguments are a ${typeName(v)}, expected a tuple`);
    return v as unknown[];
  };
  const int = (v: bigint): number | bigint =>
    v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  const long = (n: number) => {
    const raw = take(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]!);
    if (n > 0 && raw[n - 1]! & 0x80) v -= 1n << BigInt(8 * n); // two's complement
    return int(v);
  };

  while (true) {
    at = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail(`pickle protocol ${bytes[pos - 1]} is newer than 5`);
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || marks.length !== 0) {
          fail(`STOP with ${stack.length} values and ${marks.length} marks, expected one value`);
        }
        return stack[0];
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(long(u8()));
        break;
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) fail(`LONG4 has a negative length ${n}`);
        stack.push(long(n));
        break;
      }
      case 0x47: // BINFLOAT: big-endian double
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(text(u64()));
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(take(u32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop(), a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop(), b = pop(), a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        stack.push(tuple(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const v = pop();
        listOf(top(), "APPEND").push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        listOf(top(), "APPENDS").push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: { // DICT
        const items = popMark();
        const d = new Map<unknown, unknown>();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(), k = pop();
        dictOf(top(), "SETITEM").set(k, v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail("SETITEMS with an odd number of values");
        const d = dictOf(top(), "SETITEMS");
        for (let i = 0; i < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail(`ADDITEMS on a ${typeName(s)}, expected a set`);
        for (const v of items) (s as Set<unknown>).add(v);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) fail(`memo entry ${key} was never stored`);
        stack.push(memo.get(key));
        break;
      }
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        stack.push(hooks.findGlobal(module, line()));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          fail("STACK_GLOBAL needs two strings");
        }
        stack.push(hooks.findGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop(), fn = pop();
        stack.push(callable(fn, "REDUCE").call(argsOf(args, "REDUCE")));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop(), cls = pop();
        stack.push(callable(cls, "NEWOBJ").call(argsOf(args, "NEWOBJ")));
        break;
      }
      case 0x62: { // BUILD: instance attributes; a dict's (e.g. state_dict._metadata) are dropped
        pop();
        const obj = top();
        if (!(obj instanceof Map)) fail(`BUILD on a ${typeName(obj)}, which takes no state`);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      default: {
        const name = TEXT_OPCODES[op];
        fail(
          name
            ? `opcode ${name} (protocol 0/1 text pickles are not supported)`
            : `unknown opcode 0x${op.toString(16).padStart(2, "0")}`,
        );
      }
    }
  }
}

/** Python-ish name of a decoded value, for messages. */
export function typeName(v: unknown): string {
  if (v === null) return "None";
  if (v instanceof Map) return "dict";
  if (v instanceof Set) return "set";
  if (v instanceof Uint8Array) return "bytes";
  if (Array.isArray(v)) return Object.isFrozen(v) ? "tuple" : "list";
  if (v instanceof PyGlobal) return `global ${v.qualifiedName}`;
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
  if (typeof v === "bigint") return "int";
  if (typeof v === "string") return "str";
  if (typeof v === "boolean") return "bool";
  return (v as object)?.constructor?.name ?? typeof v;
}
