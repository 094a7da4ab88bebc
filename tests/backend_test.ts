/**
 * shared/engine/backend.ts: explicit and auto selection in this process; and where oneDNN
 * cannot load (a process without --allow-ffi, as a user's machine without libdnnl2 behaves),
 * `auto` gives wasm with one log line saying how to get the native backend, and an explicit
 * `--backend native` fails naming the library and the install command (real subprocesses).
 */
import assert from "node:assert/strict";
import { backendFacts, probeNative, resolveBackend } from "../shared/engine/probe.ts";
import { selectBackend } from "../shared/engine/backend.ts";
import { BACKEND_CHOICES } from "../shared/engine/choices.ts";
import { quiet } from "./support/tiny_model.ts";

const script = `
import { selectBackend } from "${new URL("../shared/engine/backend.ts", import.meta.url).href}";
const lines = [];
const auto = await selectBackend("auto", (m) => lines.push(m));
await selectBackend("auto", (m) => lines.push(m));
let explicit = "";
try { await selectBackend("native", () => {}); } catch (e) { explicit = e.message; }
console.log(JSON.stringify({ auto: auto.name, lines, explicit }));
`;

Deno.test("auto falls back to wasm without oneDNN, says once how to get it", async () => {
  const file = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--config",
        new URL("../deno.json", import.meta.url).pathname,
        "--allow-read",
        "--allow-env",
        "--allow-sys",
        file,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, stderr);
    const result = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    assert.equal(result.auto, "wasm");
    const hints = (result.lines as string[]).filter((l) => l.includes("several times faster"));
    assert.equal(hints.length, 1, `one hint in: ${result.lines.join(" | ")}`);
    assert.match(hints[0]!, /apt-get install libdnnl2/);
    assert.match(result.explicit, /Cannot load libdnnl\.so\.2 for the native backend: .*libdnnl2/);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("runtime facts: native adds oneDNN's version and ISA, other backends stay as before", () => {
  assert.deepEqual(backendFacts("wasm"), { backend: "wasm" });
  assert.deepEqual(backendFacts("cpu"), { backend: "cpu" });
  const native = probeNative();
  if (!native.ok) {
    assert.deepEqual(backendFacts("native"), { backend: "native" });
    return;
  }
  assert.deepEqual(backendFacts("native"), {
    backend: "native",
    onednn: native.info.version,
    isa: native.info.isa,
  });
});

Deno.test("selectBackend: explicit cpu, auto, and a clear error for a missing tfjs-node", async () => {
  assert.deepEqual((await selectBackend("cpu", quiet)).name, "cpu");
  const auto = await selectBackend("auto", quiet);
  assert.ok(["tensorflow", "webgpu", "native", "wasm", "cpu"].includes(auto.name), auto.name);
  if (probeNative().ok && auto.name !== "tensorflow" && auto.name !== "webgpu") {
    assert.equal(auto.name, "native", "auto prefers oneDNN where it loads");
  }
  assert.ok(auto.reason.length > 0);
  // One resolution of auto: the one cache keys (runtime facts) are made with.
  assert.equal(auto.name, await resolveBackend("auto"));
  assert.equal(await resolveBackend("wasm"), "wasm");
  assert.deepEqual(BACKEND_CHOICES, ["auto", "tensorflow", "webgpu", "native", "wasm", "cpu"]);
  if (auto.name !== "tensorflow") {
    await assert.rejects(
      selectBackend("tensorflow", quiet),
      /deno add npm:@tensorflow\/tfjs-node@4\.22\.0.*libtensorflow/,
    );
  }
});
