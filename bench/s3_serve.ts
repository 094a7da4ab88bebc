/**
 * A fauxqs S3 server in its own process for the benchmarks (so its work does not share the
 * measured process's event loop): prints {"endpoint": ...} on stdout, serves until killed.
 */
import { startS3, startSignedS3 } from "../tests/support/s3_server.ts";

if (import.meta.main) {
  const s3 = Deno.args[0] === "s3rver"
    ? await startSignedS3("csn-bench")
    : await startS3("csn-bench", { signatures: false }); // the tests check signatures
  console.log(JSON.stringify({ endpoint: s3.endpoint, bucket: s3.bucket, env: s3.env }));
  Deno.addSignalListener("SIGTERM", async () => {
    await s3.stop();
    Deno.exit(0);
  });
}

export interface S3Process {
  readonly env: Record<string, string>;
  readonly bucket: string;
  stop(): Promise<void>;
}

/**
 * Starts this file as a child process and waits for its endpoint: fauxqs (11 MiB per request
 * at most) or s3rver (no limit, so a single 300 MB PUT works).
 */
export async function spawnS3(kind: "fauxqs" | "s3rver" = "fauxqs"): Promise<S3Process> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, kind],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Cannot start the benchmark's S3 server: it exited");
    text += value;
  }
  const info = JSON.parse(text.split("\n")[0]!);
  return {
    env: info.env,
    bucket: info.bucket,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
      await reader.cancel();
    },
  };
}
