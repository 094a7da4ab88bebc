/** The runner end to end through the CLI, on small real stages (tests/fixtures/pipeline_project). */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, cliCommand, copyProject, runJson, statuses } from "./support/cli.ts";
import { LocalStore } from "../shared/store/local_store.ts";
import { removeTree } from "../shared/util/fs.ts";

Deno.test("a first run runs every stage, a rerun runs none", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  const first = await runJson(dir, "pipeline", ["demo"]);
  assert.deepEqual(statuses(first), { source: "ran", upper: "ran", summary: "ran" });
  assert.equal(first.stages[2]!.metrics.chars, 3 * "ABC 0\n!".length);
  const again = await runJson(dir, "pipeline", ["demo"]);
  assert.deepEqual(statuses(again), { source: "cached", upper: "cached", summary: "cached" });
  assert.deepEqual(again.stages.map((s) => s.outputs), first.stages.map((s) => s.outputs));
  const published = JSON.parse(await Deno.readTextFile(join(dir, "runs/demo/summary/report.json")));
  assert.equal(published.files, 3);
  const record = JSON.parse(await Deno.readTextFile(join(dir, "runs/demo/record.json")));
  assert.equal(record.stages.upper.outputs.files, first.stages[1]!.outputs.files);
  const params = JSON.parse(await Deno.readTextFile(join(dir, "runs/demo/params.json")));
  assert.equal(params.source.count, 3);
  await removeTree(dir);
});

Deno.test("a changed param reruns that stage and downstream; a volatile one reruns nothing", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  await runJson(dir, "pipeline", ["demo"]);
  const status = await runJson(dir, "status", ["demo", "--set", "upper.suffix=?"]);
  assert.deepEqual(statuses(status), {
    source: "cached",
    upper: "would-run",
    summary: "would-run",
  });
  assert.match(status.stages[1]!.reason, /params changed \(suffix: "!" -> "\?"\)/);
  const changed = await runJson(dir, "pipeline", ["demo", "--set", "upper.suffix=?"]);
  assert.deepEqual(statuses(changed), { source: "cached", upper: "ran", summary: "ran" });
  const volatile = await runJson(dir, "pipeline", [
    "demo",
    "--set",
    "upper.suffix=?",
    "--set",
    "upper.log_every=5",
  ]);
  assert.deepEqual(statuses(volatile), { source: "cached", upper: "cached", summary: "cached" });
  await removeTree(dir);
});

Deno.test("editing a module only one stage imports reruns that stage and downstream", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  await runJson(dir, "pipeline", ["demo"]);
  const helper = join(dir, "stages/helpers/upper_helper.ts");
  await Deno.writeTextFile(
    helper,
    (await Deno.readTextFile(helper)).replace("toUpperCase()", "toUpperCase().trim()"),
  );
  const status = await runJson(dir, "status", ["demo"]);
  assert.match(status.stages[1]!.reason, /code changed \(stages\/helpers\/upper_helper.ts\)/);
  const report = await runJson(dir, "pipeline", ["demo"]);
  assert.deepEqual(statuses(report), { source: "cached", upper: "ran", summary: "ran" });
  assert.equal(report.stages[2]!.metrics.chars, 3 * "ABC 0!".length);
  await removeTree(dir);
});

Deno.test("a corrupted file of a cached artefact is detected and rebuilt", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  const first = await runJson(dir, "pipeline", ["demo"]);
  const id = first.stages[1]!.outputs.files!;
  const victim = join(dir, "data/store/objects", id, "files", "1.txt");
  await Deno.chmod(victim, 0o644);
  await Deno.writeTextFile(victim, "XBC 1\n!"); // same size, new mtime
  const report = await runJson(dir, "pipeline", ["demo"]);
  assert.deepEqual(statuses(report), { source: "cached", upper: "ran", summary: "cached" });
  assert.match(report.stages[1]!.reason, /damaged: output files .*1\.txt: content does not match/);
  assert.equal(report.stages[1]!.outputs.files, id, "rebuilt with the same content, same id");
  const store = new LocalStore(join(dir, "data/store"));
  assert.deepEqual((await store.verify(id, "full")).intact, true);
  const damaged = [...Deno.readDirSync(join(dir, "data/store/damaged"))].map((e) => e.name);
  assert.ok(damaged.some((name) => name.startsWith(id)), "the damaged copy is kept aside");
  await removeTree(dir);
});

Deno.test("kill -9 during an artefact write leaves no partial artefact; the next run succeeds", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  await runJson(dir, "pipeline", ["demo", "--until", "upper"]);
  const child = cliCommand(dir, "pipeline", [
    "demo",
    "--set",
    "summary.bytes=4000000",
    "--set",
    "summary.delay_ms=20",
  ]).spawn();
  const temp = join(dir, "data/store/tmp");
  const deadline = Date.now() + 30_000;
  let midWrite = false;
  while (!midWrite && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const draft of safeReadDir(temp).filter((name) => !name.endsWith(".lock"))) {
      const big = join(temp, draft, "files", "big.bin");
      midWrite ||= safeSize(big) > 64 * 1024;
    }
  }
  assert.ok(midWrite, "the stage was caught mid-write");
  child.kill("SIGKILL");
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
  const store = new LocalStore(join(dir, "data/store"));
  const before = await store.list();
  for (const id of before) assert.equal((await store.verify(id, "full")).intact, true);
  const report = await runJson(dir, "pipeline", ["demo", "--set", "summary.bytes=200000"]);
  assert.deepEqual(statuses(report), { source: "cached", upper: "cached", summary: "ran" });
  assert.deepEqual(safeReadDir(temp), [], "the killed draft was swept");
  await removeTree(dir);
});

Deno.test("two concurrent runs on one store both finish correctly", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  const runs = await Promise.all([
    runJson(dir, "pipeline", ["demo", "--name", "a"]),
    runJson(dir, "pipeline", ["demo", "--name", "b"]),
    runJson(dir, "pipeline", ["demo", "--name", "a"]),
  ]);
  const ids = runs.map((run) => run.stages.map((stage) => stage.outputs));
  assert.deepEqual(ids[0], ids[1]);
  assert.deepEqual(ids[0], ids[2]);
  const ran = runs.flatMap((run) => run.stages).filter((stage) => stage.status === "ran");
  assert.equal(ran.length, 3, "each stage ran once; the other runs found it made");
  for (const name of ["a", "b"]) {
    const record = JSON.parse(await Deno.readTextFile(join(dir, `runs/${name}/record.json`)));
    assert.deepEqual(record.stages.summary.outputs, ids[0]![2]);
  }
  await removeTree(dir);
});

Deno.test("bad manifests, unknown params and wrong types are clear errors", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  await Deno.writeTextFile(
    join(dir, "pipelines/bad.json"),
    JSON.stringify({ name: "bad", stages: [{ name: "source", inputz: {} }] }),
  );
  const bad = await cli(dir, "pipeline", ["bad"]);
  assert.notEqual(bad.code, 0);
  assert.match(
    bad.stderr,
    /Cannot read pipeline manifest ".*bad\.json": stages\.0: Unrecognized key: "inputz"/,
  );
  await Deno.writeTextFile(join(dir, "pipelines/broken.json"), "{ not json");
  const broken = await cli(dir, "pipeline", ["broken"]);
  assert.notEqual(broken.code, 0);
  assert.match(broken.stderr, /Cannot parse pipeline manifest ".*broken\.json"/);
  const unknown = await cli(dir, "pipeline", ["demo", "--set", "upper.sufix=?"]);
  assert.notEqual(unknown.code, 0);
  assert.match(
    unknown.stderr,
    /Cannot resolve params of stage "upper": unknown param "upper\.sufix".*did you mean "upper\.suffix"\?/,
  );
  const typed = await cli(dir, "pipeline", ["demo", "--set", "source.count=three"]);
  assert.notEqual(typed.code, 0);
  assert.match(typed.stderr, /source\.count: .*expected number/);
  const flag = await cli(dir, "pipeline", ["demo", "--unitl", "upper"]);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /Cannot read flag --unitl: unknown flag; did you mean --until\?/);
  const stage = await cli(dir, "pipeline", ["demo", "--until", "uper"]);
  assert.notEqual(stage.code, 0);
  assert.match(stage.stderr, /did you mean "upper"/);
  await removeTree(dir);
});

Deno.test("stage runs one stage from the run's recorded inputs; gc keeps what runs reference", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  const missing = await cli(dir, "stage", ["upper", "--pipeline", "demo"]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /needs input "files" from stage "source".*--until source/);
  await runJson(dir, "pipeline", ["demo"]);
  const one = await runJson(dir, "stage", ["upper", "--pipeline", "demo", "--suffix", "?"]);
  assert.deepEqual(statuses(one), { upper: "ran" });
  const typo = await cli(dir, "stage", ["upper", "--pipeline", "demo", "--sufix", "?"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /Cannot read flag --sufix: unknown flag; did you mean --suffix\?/);
  const store = new LocalStore(join(dir, "data/store"));
  assert.equal((await store.list()).length, 4);
  const gc = await cli(dir, "gc", ["--min-age", "0", "--json"]);
  assert.equal(gc.code, 0, gc.stderr);
  assert.equal(JSON.parse(gc.stdout).removed.length, 1, "the first upper output is unreferenced");
  const after = await runJson(dir, "pipeline", ["demo"]);
  // The manifest's upper output and its cache entry were collected; it is rebuilt to the same
  // content, so summary (keyed on that content) stays cached.
  assert.deepEqual(statuses(after), { source: "cached", upper: "ran", summary: "cached" });
  assert.match(after.stages[1]!.reason, /params changed \(suffix: "\?" -> "!"\)/);
  await removeTree(dir);
});

function safeReadDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((entry) => entry.name);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
}

function safeSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

Deno.test("per-seed stages expand by the seeds param; adding a seed runs only the new ones", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  const one = await runJson(dir, "pipeline", ["seeds"]);
  assert.deepEqual(statuses(one), { source: "ran", "seeded-s1": "ran", collect: "ran" });
  assert.deepEqual(one.stages[2]!.metrics, { "seeded-s1": "1 2" });
  const three = await runJson(dir, "pipeline", ["seeds", "--set", "collect.seeds=3"]);
  assert.deepEqual(statuses(three), {
    source: "cached",
    "seeded-s1": "cached",
    "seeded-s2": "ran",
    "seeded-s3": "ran",
    collect: "ran",
  });
  assert.deepEqual(three.stages[4]!.metrics, {
    "seeded-s1": "1 2",
    "seeded-s2": "2 2",
    "seeded-s3": "3 2",
  });
  const bad = await cli(dir, "pipeline", ["seeds", "--set", "collect.seeds=0"]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /collect\.seeds: .*>=1/);
  await removeTree(dir);
});

/** Every file and folder under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const entry of Deno.readDirSync(join(dir, rel))) {
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      found.push(child);
      if (entry.isDirectory) walk(child);
    }
  };
  walk("");
  return found.sort();
}

Deno.test("status and a dry run write nothing, with every stage cached too", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  await runJson(dir, "pipeline", ["demo"]);
  await removeTree(join(dir, "runs"));
  const before = tree(dir);
  const status = await runJson(dir, "status", ["demo"]);
  assert.deepEqual(statuses(status), { source: "cached", upper: "cached", summary: "cached" });
  const dry = await runJson(dir, "pipeline", ["demo", "--dry-run", "--name", "other"]);
  assert.deepEqual(statuses(dry), { source: "cached", upper: "cached", summary: "cached" });
  const changed = await runJson(dir, "status", ["demo", "--set", "upper.suffix=?"]);
  assert.equal(changed.stages[1]!.status, "would-run");
  assert.deepEqual(tree(dir), before);
  await removeTree(dir);
});

Deno.test("a failed first run leaves no run folder; a failed rerun keeps the good one", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  const failed = await cli(dir, "pipeline", ["fails"]);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /Cannot go on: this stage always fails/);
  assert.deepEqual(safeReadDir(join(dir, "runs")), [], "no runs/fails/ half made");
  await runJson(dir, "pipeline", ["fails", "--until", "count"]);
  const record = await Deno.readTextFile(join(dir, "runs/fails/record.json"));
  const report = await Deno.readTextFile(join(dir, "runs/fails/count/report.json"));
  const again = await cli(dir, "pipeline", ["fails", "--set", "source.count=5"]);
  assert.equal(again.code, 1, again.stderr);
  assert.equal(await Deno.readTextFile(join(dir, "runs/fails/record.json")), record);
  assert.equal(await Deno.readTextFile(join(dir, "runs/fails/count/report.json")), report);
  await removeTree(dir);
});
