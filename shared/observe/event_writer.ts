/**
 * A live, append-only TensorBoard event file, like PyTorch's SummaryWriter: each writer
 * creates its own file (events.out.tfevents.<secs>.<host>.<pid>.<n>) and appends one whole
 * framed record per event, so a reader tailing it sees new points as they come and no byte
 * already written ever changes. A killed writer leaves at worst a torn last record in its own
 * file; the next writer starts a new file rather than appending after the tear.
 *   Event      { wall_time = 1; step = 2; file_version = 3; summary = 5; session_log = 7 }
 *   SessionLog { status = 1 (START = 1) }
 */
import { join } from "node:path";
import { ProtoWriter } from "./protobuf.ts";
import type { EncodedValue } from "./tf_summary.ts";
import { FILE_VERSION } from "./tfevents.ts";
import { frameRecord } from "./tfrecord.ts";

export const EVENT_FILE_PREFIX = "events.out.tfevents.";

export interface EventWriterOptions {
  /** Host part of the file name (default: this machine's hostname). */
  host?: string;
  /** Time of the file name and of the file_version event (default: now). */
  now?: Date;
  /** Remove the folder's earlier event files first (a fresh start of the series). */
  fresh?: boolean;
}

let opened = 0;

function encode(wallTime: number, step: number, body?: (w: ProtoWriter) => void): Uint8Array {
  const w = new ProtoWriter();
  if (wallTime !== 0) w.double(1, wallTime);
  if (step !== 0) w.int64(2, step);
  body?.(w);
  return w.finish();
}

export function summaryEvent(wallTime: number, step: number, values: EncodedValue[]): Uint8Array {
  const summary = new ProtoWriter();
  for (const value of values) summary.bytes(1, value);
  return encode(wallTime, step, (w) => w.bytes(5, summary.finish()));
}

export class EventWriter {
  #queue: Promise<void> = Promise.resolve();

  private constructor(readonly file: string) {}

  static async open(dir: string, options: EventWriterOptions = {}): Promise<EventWriter> {
    await Deno.mkdir(dir, { recursive: true });
    const existing: string[] = [];
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isFile && entry.name.startsWith(EVENT_FILE_PREFIX)) existing.push(entry.name);
    }
    if (options.fresh) {
      for (const name of existing) await Deno.remove(join(dir, name));
      existing.length = 0;
    }
    const now = options.now ?? new Date();
    // TensorBoard reads a folder's files in name order and moves on to the newest, so a new
    // writer's name must sort after every earlier one even within the same second.
    const newest = Math.max(0, ...existing.map((n) => Number(n.split(".")[3]) || 0));
    const secs = Math.max(Math.floor(now.getTime() / 1000), existing.length ? newest + 1 : 0);
    const host = (options.host ?? Deno.hostname()).replace(/[^A-Za-z0-9_-]/g, "_");
    const file = join(dir, `${EVENT_FILE_PREFIX}${secs}.${host}.${Deno.pid}.${opened++}`);
    const header = encode(now.getTime() / 1000, 0, (w) => w.string(3, FILE_VERSION));
    await Deno.writeFile(file, frameRecord(header), { createNew: true });
    return new EventWriter(file);
  }

  /** Appends one event with `values` (scalars, images, ...) at `step`. */
  write(step: number, wallTime: number, values: EncodedValue[]): Promise<void> {
    if (values.length === 0) return this.#queue;
    return this.#append(summaryEvent(wallTime, step, values));
  }

  /**
   * Marks a restart (a resumed run) at `step`: TensorBoard then drops the points at and after
   * `step` that an interrupted run had logged, so the replayed steps are not doubled.
   */
  restart(step: number, wallTime: number): Promise<void> {
    const sessionLog = new ProtoWriter().int64(1, 1).finish();
    return this.#append(encode(wallTime, step, (w) => w.bytes(7, sessionLog)));
  }

  /** Appends in call order; each record goes out in one write with O_APPEND. */
  #append(event: Uint8Array): Promise<void> {
    const record = frameRecord(event);
    this.#queue = this.#queue.then(() => Deno.writeFile(this.file, record, { append: true }));
    return this.#queue;
  }
}
