/**
 * shard: the decoded dataset -> fixed-size uint8 image records in shard files plus
 * index.json (per-shard sha256), labels, triplets and names, for the streaming reader
 * (shared/data/shards). Images are streamed from images.u8, never all in memory.
 */
import { z } from "zod";
import { readDecodedMeta } from "../shared/data/decoded_io.ts";
import {
  DEFAULT_RECORDS_PER_SHARD,
  fileRecordSource,
  writeShards,
} from "../shared/data/shards/writer.ts";
import { defineStage } from "../shared/stage/contract.ts";

const Params = z.object({
  /** Images per shard file; changes the files, so it is part of the cache key. */
  records_per_shard: z.number().int().min(1).default(DEFAULT_RECORDS_PER_SHARD),
});

export default defineStage({
  name: "shard",
  description: "Pack decoded images into fixed-size records in checksummed shard files",
  params: Params,
  inputs: ["decoded"],
  outputs: ["shards"],
  async run(ctx) {
    const meta = await readDecodedMeta(ctx.inputs.decoded.dir);
    const source = await fileRecordSource(
      meta.imagesFile,
      meta.height * meta.width * meta.channels,
    );
    let index;
    try {
      index = await writeShards(source, meta, ctx.outputs.shards, {
        recordsPerShard: ctx.params.records_per_shard,
        log: ctx.log,
      });
    } finally {
      await source.close();
    }
    const bytes = index.shards.reduce((n, s) => n + s.bytes, 0);
    ctx.log(`${index.count} images in ${index.shards.length} shards (${bytes} bytes)`);
    return {
      metrics: {
        images: index.count,
        shards: index.shards.length,
        bytes,
        shape: index.shape,
        triplets: {
          train: index.triplets.train.count,
          val: index.triplets.val.count,
          test: index.triplets.test.count,
        },
      },
    };
  },
});
