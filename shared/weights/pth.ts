/**
 * Reads PyTorch checkpoints written by torch.save (the zip format of PyTorch >= 1.6):
 *   <archive>/data.pkl     the pickled object; tensors appear as torch._utils._rebuild_tensor_v2
 *                          (storage, offset, size, stride, ...) whose storage is a persistent id
 *                          ('storage', torch.FloatStorage, key, location, numel)
 *   <archive>/data/<key>   each storage's raw bytes, C order
 *   <archive>/byteorder    "little" or "big" (absent in older files: little)
 * Views (transposes, slices) are materialised into C-order arrays. The result uses the
 * safetensors tensor type, so it feeds importState (state_dict.ts) directly.
 */
import { unzipSync } from "fflate";
import { PyGlobal, typeName, unpickle } from "./pickle.ts";
import type { SafeTensor } from "./dtype.ts";
import {
  decodeStorage,
  ints,
  materialise,
  type Storage,
  STORAGES,
  TensorRef,
} from "./torch_tensor.ts";

/** A storage class global such as torch.FloatStorage (only ever an argument, never called). */
class StorageClass extends PyGlobal {
  constructor(readonly name: string) {
    super(`torch.${name}`, () => {
      throw new TypeError(
        `Cannot call torch.${name}: this reader only names storage classes, it does not call them`,
      );
    });
  }
}

/**
 * Tensors of a torch.save'd state_dict (or of the `state_dict` entry of a checkpoint dict),
 * by name, in file order. `source` (usually the path) names the file in errors.
 */
export function readPth(bytes: Uint8Array, source: string): Map<string, SafeTensor> {
  const what = `Cannot read PyTorch checkpoint "${source}"`;
  const fail = (m: string): never => {
    throw new SyntaxError(`${what}: ${m}`);
  };
  const isZip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  if (!isZip) {
    if (bytes[0] === 0x80) {
      fail(
        "it is in the legacy (pre-1.6, non-zip) torch.save format; re-save it with " +
          "torch.save(torch.load(path), path) on PyTorch >= 1.6",
      );
    }
    fail(
      `it is not a zip archive (starts with ${
        hex(bytes.subarray(0, 4))
      }), expected torch.save's zip format`,
    );
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new SyntaxError(`${what}: the zip archive is corrupt (${(e as Error).message})`, {
      cause: e,
    });
  }
  const pkl = Object.keys(files).filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl.length !== 1) {
    fail(
      `expected one <archive>/data.pkl entry, found ${pkl.length} (${
        Object.keys(files).slice(0, 5)
      })`,
    );
  }
  const prefix = pkl[0]!.slice(0, -"/data.pkl".length);
  const order = files[`${prefix}/byteorder`];
  const byteorder = order ? new TextDecoder().decode(order).trim() : "little";
  if (byteorder !== "little" && byteorder !== "big") {
    fail(`${prefix}/byteorder says "${byteorder}", expected "little" or "big"`);
  }
  const storages = new Map<string, Storage>();
  const persistentLoad = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid[0] !== "storage" || pid.length < 5) {
      fail(`unsupported persistent id ${typeName(pid)} ${String(pid).slice(0, 80)}`);
    }
    const [, type, key, , numel] = pid as unknown[];
    if (!(type instanceof StorageClass) || typeof key !== "string" || !Number.isInteger(numel)) {
      fail(`malformed storage id (${(pid as unknown[]).map(typeName)})`);
    }
    const st = type as StorageClass;
    const cached = storages.get(key as string);
    if (cached) return cached;
    const raw = files[`${prefix}/data/${key}`];
    if (!raw) fail(`storage "${key}" has no entry ${prefix}/data/${key}`);
    const expected = (numel as number) * STORAGES[st.name]!.bytes;
    if (raw!.length !== expected) {
      fail(
        `${prefix}/data/${key} has ${
          raw!.length
        } bytes, expected ${numel} ${st.name} elements (${expected} bytes)`,
      );
    }
    const storage = {
      key: key as string,
      dtype: STORAGES[st.name]!.dtype,
      data: decodeStorage(raw!, st.name, byteorder === "big"),
    };
    storages.set(key as string, storage);
    return storage;
  };
  const rebuild = (args: readonly unknown[], fn: string): TensorRef => {
    const [storage, offset, size, stride] = args;
    if (!storage || typeof storage !== "object" || !("dtype" in storage)) {
      fail(`${fn} got a ${typeName(storage)} where a storage was expected`);
    }
    if (!Number.isInteger(offset)) fail(`${fn} got storage offset ${String(offset)}`);
    return new TensorRef(
      storage as Storage,
      offset as number,
      ints(size, `${fn} size`, fail),
      ints(stride, `${fn} stride`, fail),
    );
  };
  const globals: Record<string, (args: readonly unknown[]) => unknown> = {
    "collections.OrderedDict": (args) => new Map(args[0] instanceof Map ? args[0] : []),
    "torch._utils._rebuild_tensor": (args) => rebuild(args, "_rebuild_tensor"),
    "torch._utils._rebuild_tensor_v2": (args) => rebuild(args, "_rebuild_tensor_v2"),
    // Parameters: the data tensor; requires_grad, hooks and state do not matter here.
    "torch._utils._rebuild_parameter": (args) => args[0],
    "torch._utils._rebuild_parameter_with_state": (args) => args[0],
    "torch._utils._rebuild_from_type_v2": (args) => {
      if (!(args[0] instanceof PyGlobal)) fail("_rebuild_from_type_v2 without a function");
      return (args[0] as PyGlobal).call(args[2] as unknown[]);
    },
    "torch.Tensor": () => fail("torch.Tensor cannot be called here"),
    "torch.nn.parameter.Parameter": () => fail("Parameter cannot be called here"),
  };
  const findGlobal = (module: string, name: string): PyGlobal => {
    const qualified = `${module}.${name}`;
    if (module === "torch" && Object.hasOwn(STORAGES, name)) return new StorageClass(name);
    const fn = globals[qualified];
    if (!fn) {
      throw new TypeError(
        `${what}: ${prefix}/data.pkl uses the Python global "${qualified}", which this reader ` +
          `does not load (it reads dicts of tensors: save model.state_dict(), not objects)`,
      );
    }
    return new PyGlobal(qualified, fn);
  };
  const result = unpickle(
    files[pkl[0]!]!,
    { findGlobal, persistentLoad },
    `"${source}" (${prefix}/data.pkl)`,
  );
  return stateDict(result, fail);
}

function stateDict(result: unknown, fail: (m: string) => never): Map<string, SafeTensor> {
  let dict = result;
  if (dict instanceof Map && dict.get("state_dict") instanceof Map) dict = dict.get("state_dict");
  if (!(dict instanceof Map)) {
    fail(
      `it holds a ${typeName(dict)}, expected a dict of tensors (torch.save(model.state_dict()))`,
    );
  }
  const out = new Map<string, SafeTensor>();
  for (const [name, value] of dict as Map<unknown, unknown>) {
    if (typeof name !== "string") fail(`a key is a ${typeName(name)}, expected str`);
    if (!(value instanceof TensorRef)) {
      fail(`entry "${name}" is a ${typeName(value)}, expected a tensor`);
    }
    out.set(name as string, materialise(value as TensorRef, name as string, fail));
  }
  return out;
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ") || "nothing";
}
