/** shared/pipeline/code_hash.ts: which local modules enter a stage's code hash. */
import assert from "node:assert/strict";
import { localSpecifiers } from "../shared/pipeline/code_hash.ts";

Deno.test("local specifiers cover imports, re-exports, dynamic imports and worker URLs", () => {
  const source = `
    import { a } from "./a.ts";
    import type { B } from '../b.ts';
    export * from "./c.ts";
    import "./d.ts";
    const e = await import("./e.ts");
    new Worker(new URL("./f_worker.ts", import.meta.url), { type: "module" });
    import { z } from "zod";
    import x from "npm:thing";`;
  assert.deepEqual(localSpecifiers(source).sort(), [
    "../b.ts",
    "./a.ts",
    "./c.ts",
    "./d.ts",
    "./e.ts",
    "./f_worker.ts",
  ]);
});
