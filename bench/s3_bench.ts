/**
 * Benchmarks of the S3 store against a fauxqs server on 127.0.0.1 (its own process):
 * - an all-cached rerun of the six-stage bench pipeline (850 files, ~370 MB; `full` needs the
 *   real datasets) against S3, beside the same rerun against the local store;
 * - upload and download MB/s of a 300 MB artefact through the store (parts in parallel,
 *   sha256 checked), beside one PUT / one GET of the same bytes with the same client (on
 *   s3rver, as fauxqs takes at most 11 MiB per request).
 */
import { join } from "node:path";
import { cliCommand, copyProject } from "../tests/support/cli.ts";
import { S3Client } from "../shared/store/s3_client.ts";
import { s3SettingsFromEnv } from "../shared/store/s3_config.ts";
import { S3Store } from "../shared/store/s3_store.ts";
import { LocalStore } from "../shared/store/local_store.ts";
import { removeTree } from "../shared/util/fs.ts";
import { median, timeIt } from "./timing.ts";
import { spawnS3 } from "./s3_serve.ts";

export async function s3Bench(runs = 5): Promise<Record<string, unknown>> {
  const s3 = await spawnS3();
  const dirs: string[] = [];
  try {
    const env = { ...s3.env, CSN_STORE: `s3://${s3.bucket}/bench` };
    const [local, remote] = [
      await copyProject("bench/fixtures/cache_project"),
      await copyProject("bench/fixtures/cache_project"),
    ];
    dirs.push(local, remote);
    await runCli(local, {});
    const build = await timeIt(() => runCli(remote, env));
    console.error(`built and uploaded the six artefacts in ${build.toFixed(1)} s`);
    const cachedLocal: number[] = [];
    const cachedS3: number[] = [];
    for (let i = 0; i < runs; i++) {
      cachedLocal.push(await timeIt(() => runCli(local, {})));
      cachedS3.push(await timeIt(() => runCli(remote, env)));
    }
    const transfer = await transferBench(300);
    const result = {
      bench: "s3",
      cached_rerun_local_s: median(cachedLocal),
      cached_rerun_s3_s: median(cachedS3),
      target_s: 1,
      ...transfer,
    };
    return {
      ...result,
      summary:
        `all-cached rerun (6 stages, 370 MB) against S3 ${result.cached_rerun_s3_s.toFixed(3)} s ` +
        `(target < 1 s) vs local ${result.cached_rerun_local_s.toFixed(3)} s ` +
        `(${(result.cached_rerun_s3_s / result.cached_rerun_local_s).toFixed(2)}x); 300 MB ` +
        `upload ${transfer.upload_mb_s.toFixed(0)} MB/s vs one PUT ` +
        `${transfer.single_put_mb_s.toFixed(0)} MB/s (${
          (transfer.upload_mb_s / transfer.single_put_mb_s).toFixed(2)
        }x), download+verify ${transfer.download_mb_s.toFixed(0)} MB/s vs one GET ` +
        `${transfer.single_get_mb_s.toFixed(0)} MB/s (${
          (transfer.download_mb_s / transfer.single_get_mb_s).toFixed(2)
        }x)`,
    };
  } finally {
    await s3.stop();
    for (const dir of dirs) await removeTree(dir);
  }
}

/** On s3rver: fauxqs refuses requests over 11 MiB, so it cannot take the single PUT. */
async function transferBench(megabytes: number, rounds = 3) {
  const s3 = await spawnS3("s3rver");
  const client = new S3Client(s3SettingsFromEnv((name) => s3.env[name]), s3.bucket);
  const [source, target, cache] = [
    await Deno.makeTempDir(),
    await Deno.makeTempDir(),
    await Deno.makeTempDir(),
  ];
  try {
    const origin = new LocalStore(source);
    const draft = await origin.draft();
    const bytes = new Uint8Array(megabytes << 20);
    for (let i = 0; i < bytes.length; i += 65536) {
      crypto.getRandomValues(bytes.subarray(i, i + 65536));
    }
    await Deno.writeFile(join(draft.dir, "weights.bin"), bytes);
    const id = await draft.commit();
    const upload: number[] = [], download: number[] = [], put: number[] = [], get: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // A fresh prefix and target each round, so every round really moves the bytes.
      const fresh = new S3Store(client, `transfer-${round}`, cache);
      upload.push(await timeIt(() => fresh.upload(id, origin)));
      const into = new LocalStore(join(target, String(round)));
      download.push(await timeIt(() => fresh.download(id, into)));
      await into.remove(id);
      put.push(await timeIt(() => client.put(`single/${round}.bin`, bytes)));
      get.push(
        await timeIt(async () => {
          const back = await client.get(`single/${round}.bin`);
          if (back?.length !== bytes.length) {
            throw new Error(
              `Cannot GET single/${round}.bin: it came back short, ${
                back?.length ?? "no"
              } bytes of ${bytes.length}`,
            );
          }
        }),
      );
    }
    return {
      megabytes,
      rounds,
      upload_mb_s: megabytes / median(upload),
      download_mb_s: megabytes / median(download),
      single_put_mb_s: megabytes / median(put),
      single_get_mb_s: megabytes / median(get),
    };
  } finally {
    await s3.stop();
    for (const dir of [source, target, cache]) await removeTree(dir);
  }
}

async function runCli(dir: string, env: Record<string, string>): Promise<void> {
  const output = await cliCommand(dir, "pipeline", ["bench"], env).output();
  if (output.code !== 0) {
    throw new Error(
      `Cannot run pipeline bench: it exited ${output.code}: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
}

if (import.meta.main) console.log((await s3Bench()).summary);
