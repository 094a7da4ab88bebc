/**
 * OpenMP's idle threads must sleep, not spin, once oneDNN is open: libgomp reads its wait
 * policy when it loads, so this runs a fresh process with the serve task's permissions and
 * asks libgomp itself (OMP_DISPLAY_ENV) how long its threads spin: 0 when passive, 300,000
 * when no policy is set (libgomp prints the policy itself as PASSIVE in both cases); a policy
 * the user set must be kept.
 */
import assert from "node:assert/strict";
import { probeNative } from "../shared/engine/probe.ts";
import { taskFlags } from "../shared/util/task_flags.ts";

const OPEN = 'import { nativeContext } from "./shared/engine/native/context.ts"; nativeContext();';

/** The spin count libgomp reports after a process with `env` opened oneDNN. */
async function spinCount(env: Record<string, string>): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "csn-wait-" });
  try {
    const script = `${dir}/open.ts`;
    await Deno.writeTextFile(script, OPEN.replaceAll("./shared", `${Deno.cwd()}/shared`));
    const flags = taskFlags("shared/cli/serve_main.ts").filter((f) => f.startsWith("--allow-"));
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...flags, script],
      env: { ...env, OMP_DISPLAY_ENV: "VERBOSE" },
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr);
    assert.equal(code, 0, text);
    const match = /GOMP_SPINCOUNT = '(\d+)'/.exec(text);
    assert.ok(match, `libgomp printed no spin count: ${text}`);
    return Number(match[1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "native: OpenMP threads wait passively, unless the user chose a policy",
  ignore: !probeNative().ok,
  async fn() {
    const unset = Deno.env.toObject();
    delete unset.OMP_WAIT_POLICY;
    assert.equal(await spinCount(unset), 0);
    assert.ok(await spinCount({ ...unset, OMP_WAIT_POLICY: "active" }) > 1e9);
  },
});
