/** Shard format: writer, index schema, reader and streaming batches. */
export * from "../../artefacts/shard_index.ts";
export * from "./writer.ts";
export * from "./reader.ts";
export * from "./record_reader.ts";
export * from "./batches.ts";
export { normalisationTable, normaliseImage } from "./normalise.ts";
export { epochOrder, fixedSubset, flipBits, selectTriplets } from "./order.ts";
