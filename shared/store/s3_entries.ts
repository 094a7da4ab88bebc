/** Cache entries in a bucket: <prefix>/cache/<key>.json (one PUT each, last writer wins). */
import { assertEntryKey, type EntryStore } from "./entries.ts";
import type { S3Client } from "./s3_client.ts";

export class S3Entries implements EntryStore {
  readonly where: string;

  constructor(readonly client: S3Client, readonly base: string) {
    this.where = `s3://${client.bucket}/${base}`;
  }

  async read(key: string): Promise<string | undefined> {
    assertEntryKey(key);
    const bytes = await this.client.get(`${this.base}${key}.json`);
    return bytes ? new TextDecoder().decode(bytes) : undefined;
  }

  async write(key: string, text: string): Promise<void> {
    assertEntryKey(key);
    await this.client.put(`${this.base}${key}.json`, text, "application/json");
  }

  async list(): Promise<string[]> {
    const { keys } = await this.client.list(this.base);
    return keys.map((k) => /([0-9a-f]{64})\.json$/.exec(k.key)?.[1]).filter((k) => k !== undefined)
      .sort();
  }

  async remove(key: string): Promise<void> {
    assertEntryKey(key);
    await this.client.delete(`${this.base}${key}.json`);
  }
}
