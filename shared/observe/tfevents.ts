/**
 * TensorBoard event files (events.out.tfevents.<secs>.<host>) written and read without
 * TensorFlow: TFRecord framing around hand-encoded Event protobufs.
 *   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
 *   Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
 * Fields at their proto3 default (0, empty) are not written, as protobuf itself does. Live
 * files come from event_writer.ts; this module reads them and backfills older runs.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/fs.ts";
import type { MetricsRecord } from "../artefacts/metrics_log.ts";
import { int64Value, ProtoReader, ProtoWriter } from "./protobuf.ts";
import { recordScalars } from "./tb_scalars.ts";
import { frameRecords, readRecords } from "./tfrecord.ts";

export const FILE_VERSION = "brain.Event:2";

export interface SummaryValue {
  tag: string;
  simpleValue: number;
}

export interface TfEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: SummaryValue[];
}

export function encodeEvent(event: TfEvent): Uint8Array {
  const writer = new ProtoWriter();
  if (event.wallTime !== 0) writer.double(1, event.wallTime);
  if (event.step !== 0) writer.int64(2, event.step);
  if (event.fileVersion !== undefined) writer.string(3, event.fileVersion);
  if (event.summary !== undefined) {
    const summary = new ProtoWriter();
    for (const value of event.summary) {
      summary.bytes(1, new ProtoWriter().string(1, value.tag).float(2, value.simpleValue).finish());
    }
    writer.bytes(5, summary.finish());
  }
  return writer.finish();
}

/** Decodes an Event; fields this project does not write (graphs, images...) are skipped. */
export function decodeEvent(bytes: Uint8Array, what = "Event"): TfEvent {
  const event: TfEvent = { wallTime: 0, step: 0 };
  const reader = new ProtoReader(bytes, what);
  while (!reader.done) {
    const f = reader.next();
    if (f.field === 1 && f.wireType === 1) event.wallTime = f.value.getFloat64(0, true);
    else if (f.field === 2 && f.wireType === 0) event.step = int64Value(f.value);
    else if (f.field === 3 && f.wireType === 2) {
      event.fileVersion = new TextDecoder().decode(f.value);
    } else if (f.field === 5 && f.wireType === 2) {
      event.summary = [...(event.summary ?? []), ...decodeSummary(f.value, `${what} summary`)];
    }
  }
  return event;
}

function decodeSummary(bytes: Uint8Array, what: string): SummaryValue[] {
  const values: SummaryValue[] = [];
  const reader = new ProtoReader(bytes, what);
  while (!reader.done) {
    const f = reader.next();
    if (f.field !== 1 || f.wireType !== 2) continue;
    let tag = "";
    let simpleValue: number | undefined;
    const valueReader = new ProtoReader(f.value, `${what} value ${values.length + 1}`);
    while (!valueReader.done) {
      const v = valueReader.next();
      if (v.field === 1 && v.wireType === 2) tag = new TextDecoder().decode(v.value);
      else if (v.field === 2 && v.wireType === 5) simpleValue = v.value.getFloat32(0, true);
    }
    // Values without simple_value (images, histograms) are not scalars: skip them.
    if (simpleValue !== undefined) values.push({ tag, simpleValue });
  }
  return values;
}

/** A whole event file's bytes: the file_version event first, then `events`. */
export function encodeEventFile(events: readonly TfEvent[], wallTime: number): Uint8Array {
  const header: TfEvent = { wallTime, step: 0, fileVersion: FILE_VERSION };
  return frameRecords([header, ...events].map(encodeEvent));
}

export function decodeEventFile(bytes: Uint8Array, file: string): TfEvent[] {
  return readRecords(bytes, file).map((data, i) => decodeEvent(data, `"${file}" event ${i + 1}`));
}

export async function readTensorboard(file: string): Promise<TfEvent[]> {
  return decodeEventFile(await Deno.readFile(file), file);
}

/** One event per metrics line that has scalars, at its step and time. */
export function metricsEvents(records: readonly MetricsRecord[]): TfEvent[] {
  const events: TfEvent[] = [];
  for (const record of records) {
    const summary = recordScalars(record).map(({ tag, value }) => ({ tag, simpleValue: value }));
    if (summary.length === 0) continue;
    const wallTime = Date.parse(record.time) / 1000;
    events.push({ wallTime: Number.isFinite(wallTime) ? wallTime : 0, step: record.step, summary });
  }
  return events;
}

export interface TensorboardOptions {
  /** Host part of the file name (default: this machine's hostname). */
  host?: string;
  /** Time of the file_version event and of the file name (default: now). */
  now?: Date;
}

/**
 * Backfills TensorBoard scalars under `dir` from metrics lines, for runs logged before event
 * files were written live: each series gets a subfolder (TensorBoard shows each as a run to
 * overlay) and a file only when that folder holds no event file yet. Existing event files are
 * never touched, so a TensorBoard watching them never sees points rewritten. Returns the
 * files written.
 */
export async function writeTensorboard(
  records: readonly MetricsRecord[],
  dir: string,
  options: TensorboardOptions = {},
): Promise<string[]> {
  const now = options.now ?? new Date();
  const host = (options.host ?? Deno.hostname()).replace(/[^A-Za-z0-9._-]/g, "_");
  const bySeries = new Map<string, MetricsRecord[]>();
  for (const record of records) {
    bySeries.set(record.series, [...(bySeries.get(record.series) ?? []), record]);
  }
  const written: string[] = [];
  for (const [series, list] of bySeries) {
    const folder = join(dir, seriesFolder(series));
    await Deno.mkdir(folder, { recursive: true });
    let live = false;
    for await (const entry of Deno.readDir(folder)) {
      if (entry.isFile && entry.name.startsWith("events.out.tfevents.")) live = true;
    }
    if (live) continue;
    const file = join(folder, `events.out.tfevents.${Math.floor(now.getTime() / 1000)}.${host}`);
    await writeFileAtomic(file, encodeEventFile(metricsEvents(list), now.getTime() / 1000));
    written.push(file);
  }
  return written;
}

/** A series name as a safe folder name (TensorBoard shows each folder as a run). */
export function seriesFolder(series: string): string {
  const safe = series.replace(/[^A-Za-z0-9._-]/g, "_");
  return safe === "" || /^\.+$/.test(safe) ? `series_${safe.length}` : safe;
}
