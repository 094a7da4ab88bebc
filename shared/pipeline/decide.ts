/**
 * Deciding: a planned stage's cache key (code, params, inputs, runtime facts), whether an
 * intact cached result answers it, and if not (and not a dry run) running it under the key's
 * lock, so that two runs never build one key twice.
 */
import { join } from "node:path";
import { canonicalJson } from "../util/canonical_json.ts";
import { sha256Hex } from "../util/hash.ts";
import { withFileLock } from "../util/lock.ts";
import { type CacheEntry, type KeyParts, readCacheEntry } from "./cache.ts";
import { hashModuleGraph } from "./code_hash.ts";
import { explainKeyChange } from "./explain.ts";
import { keyedParams } from "./params.ts";
import type { PlannedStage } from "./plan.ts";
import type { Project } from "./project.ts";
import type { RunRecord } from "./run_record.ts";
import { executeStage } from "./execute.ts";
import { stageModulePath } from "./stage_loader.ts";

export type StageStatus = "ran" | "cached" | "would-run";

export interface StageReport {
  name: string;
  uses: string;
  key: string | null;
  status: StageStatus;
  reason: string;
  seconds: number;
  outputs: Record<string, string>;
  metrics: Record<string, unknown>;
}

export interface Decision {
  readonly runName: string;
  readonly inputIds: Record<string, string> | null;
  readonly previous: RunRecord["stages"][string] | undefined;
  readonly force: boolean;
  readonly dryRun: boolean;
  /** Return the entry whose files go into runs/<run>/ (not for upstream lookups, jobs, dry
   * runs): the runner publishes them once every stage has succeeded. */
  readonly publish: boolean;
  readonly log: (message: string) => void;
}

export async function decideAndRun(project: Project, stage: PlannedStage, decision: Decision) {
  const { entry, definition, params } = stage;
  const uses = entry.uses ?? entry.name;
  const blank = { name: entry.name, uses, seconds: 0, outputs: {}, metrics: {} };
  if (decision.inputIds === null) {
    const report: StageReport = {
      ...blank,
      key: null,
      status: "would-run",
      reason: "an upstream stage will run first",
    };
    return { report, record: undefined, publish: undefined };
  }
  const code = await hashModuleGraph(stageModulePath(project.root, uses), project.root);
  const parts: KeyParts = {
    stage: uses,
    code: code.hash,
    params: keyedParams(definition, params),
    inputs: decision.inputIds,
    runtime: (await definition.runtimeFacts?.(params)) ?? {},
  };
  const key = sha256Hex(canonicalJson(parts));
  const cached = async () => {
    const entry = await readCacheEntry(project, key);
    if (!entry) return { entry: undefined, problem: undefined };
    for (const [output, id] of Object.entries(entry.outputs)) {
      const check = await project.store.verify(id);
      if (!check.intact) {
        return {
          entry: undefined,
          problem: `output ${output} (${id.slice(0, 12)}) ${check.problem}`,
        };
      }
    }
    return { entry, problem: undefined };
  };
  const recordOf = (entry: CacheEntry) => ({
    uses,
    key,
    parts,
    codeFiles: code.files,
    outputs: entry.outputs,
    seconds: entry.seconds,
    metrics: entry.metrics,
    params,
    finished: entry.created,
  });
  const first = await cached();
  const because = () =>
    decision.force
      ? "forced with --force"
      : first.problem
      ? `cached result damaged: ${first.problem}`
      : explainKeyChange(parts, code.files, decision.previous);
  if (first.entry && !decision.force) {
    return {
      report: reportOf(blank, key, "cached", "key and outputs intact", first.entry),
      record: recordOf(first.entry),
      publish: decision.publish ? first.entry : undefined,
    };
  }
  if (decision.dryRun) {
    return {
      report: { ...blank, key, status: "would-run" as const, reason: because() },
      record: undefined,
      publish: undefined,
    };
  }
  const reason = because();
  const lock = join(project.locksDir, `key-${key}.lock`);
  const entryMade = await withFileLock(lock, async () => {
    // Another run may have made it while we waited for the lock.
    const again = decision.force ? { entry: undefined, problem: undefined } : await cached();
    if (again.entry) return { entry: again.entry, ran: false };
    if (again.problem || first.problem) {
      decision.log(`${entry.name}: ${again.problem ?? first.problem}; rebuilding`);
    }
    await quarantineDamaged(project, key);
    decision.log(`${entry.name}: running (${reason})`);
    const made = await executeStage(project, {
      stage,
      parts,
      key,
      runName: decision.runName,
      log: decision.log,
      forced: decision.force,
    });
    return { entry: made, ran: true };
  });
  const status = entryMade.ran ? "ran" : "cached";
  return {
    report: reportOf(
      blank,
      key,
      status,
      entryMade.ran ? reason : "made by a concurrent run",
      entryMade.entry,
    ),
    record: recordOf(entryMade.entry),
    publish: decision.publish ? entryMade.entry : undefined,
  };
}

function reportOf(
  blank: { name: string; uses: string },
  key: string,
  status: StageStatus,
  reason: string,
  entry: CacheEntry,
): StageReport {
  return {
    ...blank,
    key,
    status,
    reason,
    seconds: entry.seconds,
    outputs: entry.outputs,
    metrics: entry.metrics,
  };
}

/** Damaged outputs of a previous entry are moved aside so the rebuild can take their place. */
async function quarantineDamaged(project: Project, key: string): Promise<void> {
  const entry = await readCacheEntry(project, key);
  if (!entry) return;
  for (const id of Object.values(entry.outputs)) {
    const check = await project.store.verify(id);
    if (!check.intact && check.problem !== "absent") {
      await project.store.quarantine(id, check.problem);
    }
  }
}
