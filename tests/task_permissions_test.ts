/**
 * The deno.json tasks grant what each command needs, not -A: a stage can write only under the
 * project's data/ and runs/ and the temp dir (tried for real with the stage task's flags), only
 * the tasks that load native code (oneDNN, sharp) get --allow-ffi, and only `pipeline` may run
 * the SLURM client commands.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import config from "../deno.json" with { type: "json" };
import { ffiPaths, taskFlags } from "../shared/util/task_flags.ts";
import { LIBRARY_DIRS } from "../shared/engine/native/dnnl.ts";
import { cli, copyProject, REPO } from "./support/cli.ts";
import { removeTree } from "../shared/util/fs.ts";
import { type FencedCommand, fencedFlags, fenceOf } from "../shared/cli/fence.ts";

const TASKS = config.tasks as Record<string, string>;

/** Runs a probe in tests/fixtures/cli under the exact flags of the task that runs `entry`, from
 * `cwd`; returns what it printed as JSON (the run must succeed). */
async function runProbe(
  entry: string,
  probe: string,
  args: string[],
  cwd: string,
): Promise<unknown> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      ...taskFlags(`shared/cli/${entry}_main.ts`),
      "--config",
      join(REPO, "deno.json"),
      join(REPO, "tests", "fixtures", "cli", probe),
      ...args,
    ],
    cwd,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("tasks: no -A outside bench; ffi and run only where needed", () => {
  for (const [name, command] of Object.entries(TASKS)) {
    if (name === "bench" || name === "test") continue;
    assert.ok(!command.split(/\s+/).includes("-A"), `task ${name} still runs with -A`);
  }
  const ffi = Object.keys(TASKS).filter((t) => TASKS[t]!.includes("--allow-ffi"));
  assert.deepEqual(ffi.sort(), ["pipeline", "serve", "stage", "status"]);
  // pipeline may run the SLURM client; the launcher of report, query and export only Deno.
  const run = Object.keys(TASKS).filter((t) => TASKS[t]!.includes("--allow-run"));
  assert.deepEqual(run, ["pipeline", "report", "query", "export"]);
  assert.ok(TASKS.pipeline!.includes("--allow-run=sbatch,scontrol,scancel"));
  const words = TASKS.stage!.split(/\s+/).slice(2, -1);
  const flags = taskFlags("shared/cli/stage_main.ts");
  assert.deepEqual(
    flags.filter((f) => !f.startsWith("--allow-ffi=")),
    words.filter((f) => !f.startsWith("--allow-ffi=")),
  );
  for (const task of Object.keys(TASKS)) {
    assert.ok(
      !/--allow-(ffi|env)(\s|$)/.test(TASKS[task]!),
      `task ${task}: --allow-ffi/env without a list`,
    );
  }
  // The FFI paths: absolute, each a library csn loads (oneDNN, OpenMP) or an addon's package.
  const libraries = ffiPaths("shared/cli/stage_main.ts");
  assert.ok(libraries.every((path) => path.startsWith("/")), libraries.join(","));
  for (const dir of LIBRARY_DIRS) {
    const at = dir.startsWith("/") ? dir : join(REPO, dir);
    for (const name of ["libdnnl.so.2", "libgomp.so.1"]) {
      assert.ok(libraries.includes(at) || libraries.includes(join(at, name)), `${at}: ${name}`);
    }
  }
  assert.ok(libraries.some((path) => path.includes("/node_modules/.deno/@img+sharp-linux-x64@")));
  assert.throws(
    () => taskFlags("shared/cli/nothing_main.ts"),
    /Cannot read task flags for shared\/cli\/nothing_main\.ts: no deno\.json task runs it/,
  );
});

Deno.test("the stage task's flags: writes under data/, runs/ and the temp dir only", async () => {
  // Outside /tmp (which the tasks may write), as a user's checkout is: /var/tmp is another
  // folder for Deno's permissions, wherever this checkout lives.
  const project = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "csn-perm-" });
  const elsewhere = `${project}-outside.txt`;
  try {
    const result = await runProbe("stage", "write_probe.ts", [elsewhere], project);
    assert.deepEqual(result, {
      data: "ok",
      runs: "ok",
      temp: "ok",
      project: "NotCapable",
      elsewhere: "NotCapable",
      env: "NotCapable",
      csn_env: "ok",
    });
    await assert.rejects(() => Deno.stat(elsewhere), Deno.errors.NotFound);
  } finally {
    await removeTree(project);
  }
});

Deno.test("the FFI tasks' flags: dlopen of libc (to write around --allow-write) is refused", async () => {
  const project = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "csn-perm-" });
  const elsewhere = `${project}-ffi.txt`;
  try {
    for (const entry of ["pipeline", "stage", "status", "serve"]) {
      const result = await runProbe(entry, "ffi_write_probe.ts", [elsewhere], project);
      assert.deepEqual(result, { ffi: "NotCapable" }, `task ${entry}`);
      await assert.rejects(() => Deno.stat(elsewhere), Deno.errors.NotFound);
    }
  } finally {
    await removeTree(project);
    await Deno.remove(elsewhere).catch(() => {});
  }
});

Deno.test("a link planted inside data/ is refused, not written through", async () => {
  for (const inside of ["data/work", "data/store", "data/store/tmp", "runs/demo"]) {
    const dir = await copyProject("tests/fixtures/pipeline_project");
    const outside = await Deno.makeTempDir({ prefix: "csn-link-target-" });
    try {
      await Deno.mkdir(join(dir, inside, ".."), { recursive: true });
      await Deno.symlink(outside, join(dir, inside));
      if (inside === "runs/demo") await cli(dir, "pipeline", ["demo", "--name", "other"]);
      // For runs/demo: every stage cached (made under another run name), so only publishing
      // and the record would write there.
      const result = await cli(dir, "pipeline", ["demo"]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`Cannot write under ${inside}: it is a symbolic link .*expected a folder`),
      );
      assert.deepEqual(await Array.fromAsync(Deno.readDir(outside)), [], inside);
    } finally {
      await removeTree(dir);
      await removeTree(outside);
    }
  }
});

Deno.test("the FFI tasks' flags: oneDNN, sharp and canvas load and run", async () => {
  const project = await Deno.makeTempDir({ prefix: "csn-perm-" });
  let result: unknown;
  try {
    result = await runProbe("stage", "native_probe.ts", [], project);
  } finally {
    await removeTree(project);
  }
  assert.deepEqual(result, {
    native: "omp",
    sharp: "PNG",
    canvas: "PNG",
  });
});

Deno.test("report, query and export write only under their run folder and --out", async () => {
  const project = await Deno.makeTempDir({ dir: "/var/tmp", prefix: "csn-perm-" });
  const at = (path: string) => join(project, path);
  for (const dir of ["runs/r", "runs/other", "data", "sheets", "exported"]) {
    await Deno.mkdir(at(dir), { recursive: true });
  }
  const probe = async (command: FencedCommand, args: string[], paths: string[]) => {
    const fence = fenceOf(command, args, project, project);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...fencedFlags(taskFlags("shared/cli/stage_main.ts"), fence, false),
        join(REPO, "tests", "fixtures", "cli", "fence_probe.ts"),
        ...paths.map(at),
      ],
      cwd: project,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    return Object.fromEntries(paths.map((path) => [path, result[at(path)]]));
  };
  try {
    assert.deepEqual(
      await probe("query", ["--run", "r", "--out", "sheets/a.png"], [
        "runs/r/query-a.png",
        "sheets/a.png",
        "sheets/b.png",
        "runs/other/x",
        "data/x",
      ]),
      {
        "runs/r/query-a.png": "ok",
        "sheets/a.png": "ok",
        "sheets/b.png": "NotCapable",
        "runs/other/x": "NotCapable",
        "data/x": "NotCapable",
      },
    );
    assert.deepEqual(
      await probe("export", ["--run=runs/r/", "--out", "exported"], [
        "exported/m.svg",
        "runs/r/export.txt",
        "x.txt",
      ]),
      { "exported/m.svg": "ok", "runs/r/export.txt": "ok", "x.txt": "NotCapable" },
    );
    assert.deepEqual(
      await probe("export", ["--run", "r", "--onnx", "exported/m.onnx"], [
        "exported/m.onnx.tmp-1",
        "data/x",
      ]),
      { "exported/m.onnx.tmp-1": "ok", "data/x": "NotCapable" },
    );
    assert.deepEqual(
      await probe("report", ["runs/r"], ["runs/r/report.html", "runs/other/report.html"]),
      { "runs/r/report.html": "ok", "runs/other/report.html": "NotCapable" },
    );
    // The tasks themselves go through the launcher; it alone may start Deno.
    for (const task of ["report", "query", "export"]) {
      assert.match(TASKS[task]!, new RegExp(`shared/cli/fence_main\\.ts ${task}$`));
    }
  } finally {
    await removeTree(project);
  }
});

Deno.test("every variable the tasks' npm packages read is in --allow-env", () => {
  // Packages only the tests and benchmarks load (autocannon: the serve benchmark), and fonts.
  const testOnly =
    /^(fauxqs|s3rver|playwright-core|onnxruntime-node|autocannon|@expo-google-fonts\/)/;
  const allowed = taskFlags("shared/cli/stage_main.ts").find((f) => f.startsWith("--allow-env="))!
    .slice("--allow-env=".length).split(",");
  const permits = (name: string) =>
    allowed.some((a) => a.endsWith("*") ? name.startsWith(a.slice(0, -1)) : a === name);
  const packages = Object.values(config.imports as Record<string, string>)
    .map((spec) => spec.replace(/^npm:/, ""))
    .filter((spec) => !testOnly.test(spec));
  // Dependencies met at load time (sharp's and semver's), beside the direct imports.
  packages.push("semver@7.8.6", "detect-libc@2.1.2");
  const missing = new Set<string>();
  let scanned = 0;
  for (const spec of packages) {
    const at = spec.lastIndexOf("@");
    const [name, version] = [spec.slice(0, at), spec.slice(at + 1)];
    const dir = join(REPO, "node_modules/.deno", `${name.replace("/", "+")}@${version}`);
    const files: string[] = [];
    const walk = (path: string) => {
      for (const entry of Deno.readDirSync(path)) {
        const child = join(path, entry.name);
        if (entry.isDirectory) walk(child);
        else if (/\.(m|c)?js$/.test(entry.name)) files.push(child);
      }
    };
    walk(dir);
    for (const file of files) {
      const text = Deno.readTextFileSync(file);
      for (const match of text.matchAll(/process\.env(?:\.([A-Za-z_]\w*)|\[["'](\w+)["']\])/g)) {
        const variable = match[1] ?? match[2]!;
        if (!permits(variable)) missing.add(`${variable} (${spec})`);
      }
    }
    scanned += files.length;
  }
  assert.ok(scanned > 100, `scanned ${scanned} files`);
  assert.deepEqual([...missing].sort(), [], "add these to the tasks' --allow-env lists");
});
