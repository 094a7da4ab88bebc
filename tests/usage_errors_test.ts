/**
 * Usage errors exit 2 with a message naming the field and what was expected; other failures
 * exit 1. Through the CLI, as users type them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, copyProject, REPO } from "./support/cli.ts";
import { removeTree } from "../shared/util/fs.ts";
import { closedPortUrl } from "./loopback_server.ts";

/** Each case: command, args, and what stderr must say. */
const DEMO_CASES: [string, string[], RegExp][] = [
  [
    "pipeline",
    ["demo", "--set", "upper.sufix=?"],
    /Cannot resolve params of stage "upper": unknown param "upper\.sufix".*"upper\.suffix"/,
  ],
  ["pipeline", ["demo", "--set", "source.count=three"], /source\.count: .*expected number/],
  ["pipeline", ["demo", "--set", "source.count"], /Cannot parse --set "source\.count"/],
  ["pipeline", ["demo", "--until", "uper"], /did you mean "upper"/],
  ["pipeline", ["demo", "--force", "uper"], /--force uper: .*has no stage "uper"/],
  ["pipeline", ["demo", "--name", "a/b"], /Cannot use run name "a\/b"/],
  ["pipeline", ["demo", "--unitl", "upper"], /Cannot read flag --unitl: unknown flag/],
  ["pipeline", ["nope"], /Cannot load pipeline "nope".*known: demo, fails, seeds/],
  ["pipeline", ["../demo"], /Cannot load pipeline "\.\.\/demo": expected a manifest name/],
  ["status", ["demo", "--set", "source.count=-1"], /source\.count: .*>=1/],
  ["stage", ["upper", "--pipeline", "demo", "--set", "sufix=?"], /unknown param "upper\.sufix"/],
  [
    "stage",
    ["upper", "--pipeline", "demo", "--set", "source.count=2"],
    /Cannot apply --set "source\.count=2": it names stage "source", but stage "upper" runs/,
  ],
  [
    "stage",
    ["upper", "--pipeline", "demo", "--sufix", "?"],
    /Cannot read flag --sufix: unknown flag/,
  ],
  ["stage", ["uper", "--pipeline", "demo"], /has no stage "uper"/],
  ["gc", ["--min-age", "-1"], /Cannot read --min-age "-1": expected seconds >= 0/],
  ["gc", ["--min-age", "soon"], /Cannot read --min-age "soon"/],
];

Deno.test("usage errors exit 2 and say what was expected", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    for (const [command, args, message] of DEMO_CASES) {
      const result = await cli(dir, command, args);
      const what = `${command} ${args.join(" ")}`;
      assert.equal(result.code, 2, `${what}: exit ${result.code}\n${result.stderr}`);
      assert.match(result.stderr, message, what);
      assert.doesNotMatch(result.stderr, /TypeError|at .*\.ts:\d+/, `${what}: no stack`);
    }
  } finally {
    await removeTree(dir);
  }
});

Deno.test("an unknown stage in --set lists the stages once", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    const result = await cli(dir, "pipeline", ["demo", "--set", "uper.suffix=!"]);
    assert.equal(result.code, 2);
    assert.match(
      result.stderr,
      /Cannot set params of stage "uper": pipeline "demo" has no stage "uper"; did you mean "upper"\? Stages: source, upper, summary\n/,
    );
  } finally {
    await removeTree(dir);
  }
});

Deno.test("a per_seed stage without seeds_from is an invalid manifest", async () => {
  const dir = await copyProject("tests/fixtures/pipeline_project");
  try {
    await Deno.writeTextFile(
      join(dir, "pipelines/loose.json"),
      JSON.stringify({
        name: "loose",
        stages: [{ name: "source", per_seed: true }],
      }),
    );
    const result = await cli(dir, "status", ["loose"]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /loose\.json": stages\.0 \("source"\) has per_seed true, but .*seeds_from/,
    );
  } finally {
    await removeTree(dir);
  }
});

/** A project linking the repository's stages, library and pipelines. */
async function repoProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "csn-usage-" });
  for (const name of ["stages", "shared", "node_modules", "deno.lock", "pipelines"]) {
    await Deno.symlink(join(REPO, name), join(dir, name));
  }
  return dir;
}

Deno.test("the real stages' params: notion names and empty lists are caught at validation", async () => {
  const dir = await repoProject();
  try {
    // preprocess.conditions is shared with the images dataset (any column name), so zappos'
    // names are checked when preprocess knows the dataset (tests/datasets_test.ts).
    const empty = await cli(dir, "status", ["full", "--set", "train.conditions=[]"]);
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(empty.stderr, /train\.conditions: expected at least one notion name/);
    const missing = await cli(dir, "stage", ["test", "--checkpoint", "0123456789abcdef"]);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /Cannot find artefact "0123456789abcdef": it is not in the store.*deno task status NAME --json/,
    );
  } finally {
    await removeTree(dir);
  }
});

Deno.test("train.conditions, fetch.families and train.pretrained are checked at plan time", async () => {
  const dir = await repoProject();
  try {
    // On a fresh project nothing is cached: each must fail before any stage runs.
    const cases: [string[], RegExp][] = [
      [
        ["full", "--set", "train.conditions=colour"],
        /Cannot plan stage "train": train\.conditions names "colour", which dataset "fonts" does not have \(it has: character, family, weight, slant\)/,
      ],
      [
        [
          "zappos-quick",
          "--set",
          "preprocess.conditions=class,heel",
          "--set",
          "train.conditions=gender",
        ],
        /train\.conditions names "gender", which dataset "zappos" does not have \(it has: class, heel\)/,
      ],
      [
        ["full", "--set", "fetch.families=roboto,robotto"],
        /Cannot fetch font family "robotto": it is not installed/,
      ],
      [
        ["full", "--set", "train.pretrained=no/such/resnet18.pth"],
        /Cannot plan stage "train": train\.pretrained "no\/such\/resnet18\.pth" does not exist/,
      ],
    ];
    for (const [args, pattern] of cases) {
      for (const command of ["status", "pipeline"]) {
        const result = await cli(
          dir,
          command,
          command === "pipeline" ? [...args, "--dry-run"] : args,
        );
        assert.notEqual(result.code, 0, `${command} ${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, pattern, `${command} ${args.join(" ")}`);
      }
    }
    const fine = await cli(dir, "status", ["full", "--set", "train.conditions=family,slant"]);
    assert.equal(fine.code, 0, fine.stderr);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("a failed fetch leaves no run folder and no lock files", async () => {
  const dir = await repoProject();
  try {
    const result = await cli(dir, "pipeline", [
      "zappos-quick",
      "--until",
      "fetch",
      "--set",
      `fetch.images_url=${closedPortUrl("ut-zap50k-images.zip")}`,
      "--set",
      "fetch.retries=0",
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /Cannot download http:\/\/127\.0\.0\.1:\d+\/ut-zap50k-images\.zip/);
    const left: string[] = [];
    for await (const path of walk(dir)) left.push(path);
    assert.deepEqual(left.filter((p) => p.endsWith(".lock") || p.startsWith("runs/")), []);
    assert.deepEqual(left.filter((p) => p.startsWith("data/work/")), []);
  } finally {
    await removeTree(dir);
  }
});

/** Paths (files and folders) under dir, relative, not following the repository links. */
async function* walk(dir: string, prefix = ""): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isSymlink) continue;
    yield rel;
    if (entry.isDirectory) yield* walk(dir, rel);
  }
}
