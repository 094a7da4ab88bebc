/**
 * An independent decoder of TensorBoard event files for the tests: a bit-at-a-time CRC-32C
 * and TFRecord framing written from the format's definition, and protobufjs with a schema
 * typed in by hand from TensorFlow's event.proto, summary.proto, tensor.proto and the
 * hparams plugin's protos (field numbers as published there). Nothing here is shared with
 * the writer under test.
 */
import protobuf from "protobufjs";

const SCHEMA = `
syntax = "proto3";
package tb;
message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    bytes graph_def = 4;
    Summary summary = 5;
    SessionLog session_log = 7;
  }
}
message SessionLog { int32 status = 1; string checkpoint_path = 2; string msg = 3; }
message Summary {
  message Image { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      bytes obsolete_old_style_histogram = 3;
      Image image = 4;
      HistogramProto histo = 5;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}
message SummaryMetadata {
  message PluginData { string plugin_name = 1; bytes content = 2; }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
}
message HistogramProto {
  double min = 1; double max = 2; double num = 3; double sum = 4; double sum_squares = 5;
  repeated double bucket_limit = 6 [packed = true];
  repeated double bucket = 7 [packed = true];
}
message TensorShapeProto { message Dim { int64 size = 1; string name = 2; } repeated Dim dim = 2; }
message TensorProto {
  int32 dtype = 1;
  TensorShapeProto tensor_shape = 2;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated bytes string_val = 8;
}
message Value {
  oneof kind { int32 null_value = 1; double number_value = 2; string string_value = 3; bool bool_value = 4; }
}
message HParamsPluginData {
  int32 version = 1;
  oneof data { Experiment experiment = 2; SessionStartInfo session_start_info = 3; SessionEndInfo session_end_info = 4; }
}
message Experiment {
  string description = 1; string user = 2; double time_created_secs = 3;
  repeated HParamInfo hparam_infos = 4; repeated MetricInfo metric_infos = 5; string name = 6;
}
message HParamInfo { string name = 1; string display_name = 2; string description = 3; int32 type = 4; }
message MetricName { string group = 1; string tag = 2; }
message MetricInfo { MetricName name = 1; string display_name = 3; string description = 4; int32 dataset_type = 5; }
message SessionStartInfo {
  map<string, Value> hparams = 1; string model_uri = 2; string monitor_url = 3;
  string group_name = 4; double start_time_secs = 5;
}
message SessionEndInfo { int32 status = 1; double end_time_secs = 2; }
`;

const root = protobuf.parse(SCHEMA).root;
export const EventType = root.lookupType("tb.Event");
export const HParamsType = root.lookupType("tb.HParamsPluginData");

function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (crc & 1 ? 0x82f63b78 : 0);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function masked(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;
}

/** Records of a TFRecord file; throws on a CRC mismatch or a torn record. */
export function frames(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    const n = Number(view.getBigUint64(at, true));
    if (view.getUint32(at + 8, true) !== masked(bytes.subarray(at, at + 8))) {
      throw new Error(`length CRC mismatch at byte ${at}`);
    }
    const data = bytes.subarray(at + 12, at + 12 + n);
    if (data.length !== n) throw new Error(`torn record at byte ${at}`);
    if (view.getUint32(at + 12 + n, true) !== masked(data)) {
      throw new Error(`data CRC mismatch at byte ${at}`);
    }
    out.push(data);
    at += 12 + n + 4;
  }
  return out;
}

// deno-lint-ignore no-explicit-any
export type Decoded = any;

/** Every event of a file as plain objects (int64 as numbers, bytes as Uint8Array). */
export function decodeEvents(bytes: Uint8Array): Decoded[] {
  return frames(bytes).map((data) =>
    EventType.toObject(EventType.decode(data), { longs: Number, oneofs: true })
  );
}

export function decodeHParams(content: Uint8Array): Decoded {
  return HParamsType.toObject(HParamsType.decode(content), { longs: Number, oneofs: true });
}
