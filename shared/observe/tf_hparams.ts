/**
 * Records of TensorBoard's HParams plugin (tensorboard/plugins/hparams/plugin_data.proto,
 * api.proto), carried as plugin metadata of Values tagged `_hparams_/...`:
 *   HParamsPluginData { version = 1; experiment = 2; session_start_info = 3; session_end_info = 4 }
 *   Experiment        { time_created_secs = 3; hparam_infos = 4; metric_infos = 5 }
 *   HParamInfo        { name = 1; type = 4 (1 string, 2 bool, 3 float64) }
 *   MetricInfo        { name = 1 { group = 1; tag = 2 } }
 *   SessionStartInfo  { hparams = 1 (map<string, google.protobuf.Value>); start_time_secs = 5 }
 *   SessionEndInfo    { status = 1 (1 success); end_time_secs = 2 }
 *   google.protobuf.Value { number_value = 2; string_value = 3; bool_value = 4 }
 * One folder holding a session start, the run's scalars and a session end is one row of the
 * HParams tab.
 */
import { ProtoWriter } from "./protobuf.ts";
import { type EncodedValue, pluginValue } from "./tf_summary.ts";

export type HParamValue = number | string | boolean;

const PLUGIN = "hparams";

/** Flattens params to what the plugin can show: objects and arrays become their JSON. */
export function hparamsOf(params: Record<string, unknown>): Record<string, HParamValue> {
  const out: Record<string, HParamValue> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") {
      out[key] = value;
    } else out[key] = JSON.stringify(value);
  }
  return out;
}

function protoValue(value: HParamValue): Uint8Array {
  const w = new ProtoWriter();
  // Members of a oneof are written even at their default (0, false, "") so they stay set.
  if (typeof value === "number") w.double(2, value);
  else if (typeof value === "string") w.string(3, value);
  else w.int64(4, value ? 1 : 0);
  return w.finish();
}

function pluginData(field: 2 | 3 | 4, message: Uint8Array): Uint8Array {
  return new ProtoWriter().bytes(field, message).finish();
}

export function experimentValue(
  hparams: Record<string, HParamValue>,
  metricTags: readonly string[],
  createdSecs: number,
): EncodedValue {
  const w = new ProtoWriter().double(3, createdSecs);
  for (const [name, value] of Object.entries(hparams)) {
    const type = typeof value === "number" ? 3 : typeof value === "boolean" ? 2 : 1;
    w.bytes(4, new ProtoWriter().string(1, name).int64(4, type).finish());
  }
  for (const tag of metricTags) {
    const name = new ProtoWriter().string(2, tag).finish();
    w.bytes(5, new ProtoWriter().bytes(1, name).finish());
  }
  return pluginValue("_hparams_/experiment", PLUGIN, pluginData(2, w.finish()));
}

export function sessionStartValue(
  hparams: Record<string, HParamValue>,
  startSecs: number,
): EncodedValue {
  const w = new ProtoWriter();
  for (const [key, value] of Object.entries(hparams)) {
    w.bytes(1, new ProtoWriter().string(1, key).bytes(2, protoValue(value)).finish());
  }
  w.double(5, startSecs);
  return pluginValue("_hparams_/session_start_info", PLUGIN, pluginData(3, w.finish()));
}

export function sessionEndValue(endSecs: number, success = true): EncodedValue {
  const w = new ProtoWriter().int64(1, success ? 1 : 2).double(2, endSecs);
  return pluginValue("_hparams_/session_end_info", PLUGIN, pluginData(4, w.finish()));
}
