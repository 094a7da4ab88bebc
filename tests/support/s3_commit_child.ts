/**
 * A writer process for the kill test: commits one 16 MiB artefact to s3://$BUCKET/p through
 * the S3 store, in 5 MiB parts one at a time; "slow" pauses before each part so the parent
 * can kill it mid-upload. Prints the id when done.
 */
import { join } from "node:path";
import { S3Client } from "../../shared/store/s3_client.ts";
import { s3SettingsFromEnv } from "../../shared/store/s3_config.ts";
import { S3Store } from "../../shared/store/s3_store.ts";

const slow = Deno.args[0] === "slow";
const client = new S3Client(
  s3SettingsFromEnv((name) => Deno.env.get(name)),
  Deno.env.get("BUCKET")!,
);
if (slow) {
  const uploadPart = client.uploadPart.bind(client);
  client.uploadPart = async (...args) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return await uploadPart(...args);
  };
}
const store = new S3Store(client, "p", Deno.env.get("CACHE")!, { partSize: 5 << 20, parallel: 1 });
const draft = await store.draft();
const bytes = new Uint8Array(16 << 20).map((_, i) => (i * 31) & 0xff);
await Deno.writeFile(join(draft.dir, "big.bin"), bytes);
console.log(await draft.commit());
