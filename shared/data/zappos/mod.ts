/** UT Zappos50k + CSN triplets: fetch (download, verify, record) and load (decode, sample). */
export { fetchZappos, type ZapposFetchOptions, type ZapposSource } from "./fetch.ts";
export { loadZappos, type ZapposLoadOptions } from "./load.ts";
export { checkConditions, ZAPPOS_CONDITIONS, type ZapposCondition } from "./layout.ts";
export { parseFilenames } from "./filenames.ts";
export { parseTripletList } from "./triplets.ts";
export { sampleTriplets } from "./sample.ts";
