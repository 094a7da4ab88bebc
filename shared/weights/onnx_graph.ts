/**
 * A small builder of ONNX graphs over the message types of `onnx-proto` (the ONNX 1.10
 * schema, IR version 8, compiled for protobufjs): nodes with typed attributes, float32 and
 * int64 initializers stored as raw little-endian bytes, typed inputs and outputs, and the
 * model wrapper with its opset and metadata. It knows nothing of csn's network.
 */
import onnxProto from "onnx-proto";

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** IR version 8 is the one the onnx-proto schema describes; it carries opsets up to 17. */
export const IR_VERSION = 8;

/** An attribute value with its ONNX type spelt out (ONNX distinguishes INT from FLOAT). */
export type AttrValue =
  | { readonly int: number }
  | { readonly ints: readonly number[] }
  | { readonly float: number };

/** A dimension: a fixed size, or a name for a size given at run time (the batch). */
export type Dim = number | string;

export interface ValueInfo {
  readonly name: string;
  readonly shape: readonly Dim[];
  readonly doc?: string;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function attribute(name: string, value: AttrValue): AttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ("int" in value) return { name, type: T.INT, i: value.int };
  if ("ints" in value) return { name, type: T.INTS, ints: [...value.ints] };
  return { name, type: T.FLOAT, f: value.float };
}

function valueInfo(v: ValueInfo): ValueInfoProto {
  return {
    name: v.name,
    ...(v.doc === undefined ? {} : { docString: v.doc }),
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: {
          dim: v.shape.map((d) => typeof d === "number" ? { dimValue: d } : { dimParam: d }),
        },
      },
    },
  };
}

export class OnnxGraph {
  readonly #nodes: NodeProto[] = [];
  readonly #initializers: TensorProto[] = [];
  readonly #names = new Set<string>();

  #claim(name: string): string {
    if (this.#names.has(name)) {
      throw new Error(`Cannot add "${name}" to the ONNX graph: a value of that name exists`);
    }
    this.#names.add(name);
    return name;
  }

  /** A float32 or int64 constant (an initializer); returns its name. */
  constant(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) {
      throw new RangeError(
        `Cannot add constant "${name}" to the ONNX graph: it has ${data.length} values, ` +
          `expected ${count} for dims [${dims}]`,
      );
    }
    if (!LITTLE_ENDIAN) {
      throw new Error("Cannot write ONNX raw tensor data: this machine is big-endian");
    }
    const T = onnx.TensorProto.DataType;
    this.#initializers.push({
      name: this.#claim(name),
      dims: [...dims],
      dataType: data instanceof Float32Array ? T.FLOAT : T.INT64,
      rawData: new Uint8Array(
        data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      ),
    });
    return name;
  }

  /** One node whose single output is named `output`; returns that name. */
  node(
    op: string,
    inputs: readonly string[],
    output: string,
    attributes: Readonly<Record<string, AttrValue>> = {},
  ): string {
    for (const input of inputs) {
      if (!this.#names.has(input)) {
        throw new Error(
          `Cannot add ${op} node "${output}" to the ONNX graph: its input "${input}" is not ` +
            `defined yet`,
        );
      }
    }
    this.#nodes.push({
      name: output,
      opType: op,
      input: [...inputs],
      output: [this.#claim(output)],
      attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
    });
    return output;
  }

  /** Declares a graph input (call before the nodes that read it). */
  input(name: string): string {
    return this.#claim(name);
  }

  /** The serialised model: this graph with its inputs, outputs, opset and metadata. */
  encode(model: {
    readonly name: string;
    readonly inputs: readonly ValueInfo[];
    readonly outputs: readonly ValueInfo[];
    readonly opset: number;
    readonly producer: { readonly name: string; readonly version: string };
    readonly doc: string;
    readonly metadata: Readonly<Record<string, string>>;
  }): Uint8Array {
    for (const v of [...model.inputs, ...model.outputs]) {
      if (!this.#names.has(v.name)) {
        throw new Error(`Cannot encode the ONNX model: "${v.name}" is not a value of its graph`);
      }
    }
    const proto: onnxProto.onnx.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: "", version: model.opset }],
      producerName: model.producer.name,
      producerVersion: model.producer.version,
      docString: model.doc,
      metadataProps: Object.entries(model.metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: model.name,
        docString: model.doc,
        node: this.#nodes,
        initializer: this.#initializers,
        input: model.inputs.map(valueInfo),
        output: model.outputs.map(valueInfo),
      },
    };
    const problem = onnx.ModelProto.verify(proto);
    if (problem) throw new Error(`Cannot encode the ONNX model: ${problem}`);
    return new Uint8Array(onnx.ModelProto.encode(proto).finish());
  }
}
