/** Why a stage (re)runs: which part of its cache key differs from the run's last record. */
import { canonicalJson } from "../util/canonical_json.ts";
import type { KeyParts } from "./cache.ts";
import type { StageRecord } from "./run_record.ts";

export function explainKeyChange(
  parts: KeyParts,
  codeFiles: Record<string, string>,
  previous: StageRecord | undefined,
): string {
  if (!previous) return "never run under this run name and no cached result for its key";
  const changes: string[] = [];
  if (previous.parts.code !== parts.code) {
    const changed = Object.keys({ ...codeFiles, ...previous.codeFiles })
      .filter((file) => codeFiles[file] !== previous.codeFiles[file])
      .sort();
    changes.push(`code changed (${changed.join(", ") || "module graph"})`);
  }
  const params = diffValues(previous.parts.params, parts.params);
  if (params.length) changes.push(`params changed (${params.join(", ")})`);
  const inputs = Object.keys({ ...parts.inputs, ...previous.parts.inputs })
    .filter((name) => parts.inputs[name] !== previous.parts.inputs[name]).sort();
  if (inputs.length) changes.push(`input changed (${inputs.join(", ")})`);
  const runtime = diffValues(previous.parts.runtime, parts.runtime);
  if (runtime.length) changes.push(`runtime changed (${runtime.join(", ")})`);
  return changes.length ? changes.join("; ") : "key unchanged but no intact cached result";
}

function diffValues(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return Object.keys({ ...before, ...after })
    .filter((key) => canonicalJson(before[key] ?? null) !== canonicalJson(after[key] ?? null))
    .sort()
    .map((key) => `${key}: ${show(before[key])} -> ${show(after[key])}`);
}

function show(value: unknown): string {
  if (value === undefined) return "unset";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
