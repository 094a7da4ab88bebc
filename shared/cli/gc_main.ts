/** deno task gc [--dry-run] [--json]: removes artefacts that no run record references. */
import { join } from "node:path";
import { readCacheEntry } from "../pipeline/cache.ts";
import { readRunRecord } from "../pipeline/run_record.ts";
import { withFileLock } from "../util/lock.ts";
import { type FlagSpec, log, main, parseArgs, usage } from "./args.ts";
import { UsageError } from "../util/usage_error.ts";
import { projectWithStore, STORE_FLAG } from "./store_flag.ts";

const FLAGS: Record<string, FlagSpec> = {
  "dry-run": { value: false, help: "list what would be removed" },
  "min-age": { value: true, help: "keep artefacts younger than this many seconds (default 3600)" },
  store: STORE_FLAG,
  json: { value: false, help: "print one JSON object on stdout" },
  help: { value: false, help: "show this help" },
};

async function runNames(runsDir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(runsDir)) if (entry.isDirectory) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return names;
}

if (import.meta.main) {
  await main(async () => {
    const args = parseArgs(Deno.args, FLAGS);
    if (args.flags.help) {
      console.log(usage("gc [flags]", "Removes artefacts no run references.", FLAGS));
      return 0;
    }
    if (args.positional.length > 0) {
      throw new UsageError(
        `Cannot collect garbage: unexpected argument "${
          args.positional[0]
        }", it takes only flags (see --help)`,
      );
    }
    const minAgeText = args.flags["min-age"]?.[0] ?? "3600";
    const minAge = Number(minAgeText);
    if (minAgeText.trim() === "" || !Number.isFinite(minAge) || minAge < 0) {
      throw new UsageError(`Cannot read --min-age "${minAgeText}": expected seconds >= 0`);
    }
    const project = projectWithStore(args.flags);
    const dryRun = Boolean(args.flags["dry-run"]);
    // Exclusive against running pipelines would need every run lock; the gc lock plus
    // keeping anything younger than --min-age covers artefacts of runs still in progress.
    const result = await withFileLock(join(project.locksDir, "gc.lock"), async () => {
      const keep = new Set<string>();
      for (const name of await runNames(project.runsDir)) {
        const record = await readRunRecord(project, name);
        for (const stage of Object.values(record?.stages ?? {})) {
          Object.values(stage.outputs).forEach((id) => keep.add(id));
        }
      }
      const removed: string[] = [];
      const hourAgo = Date.now() - minAge * 1000;
      for (const id of await project.store.list()) {
        if (keep.has(id)) continue;
        if ((await project.store.modified(id)) > hourAgo) continue;
        removed.push(id);
        if (!dryRun) await project.store.remove(id);
      }
      let entries = 0;
      for (const key of await project.entries.list()) {
        const cached = await readCacheEntry(project, key);
        const stale = !cached || Object.values(cached.outputs).some((id) => removed.includes(id));
        if (stale) {
          entries++;
          if (!dryRun) await project.entries.remove(key);
        }
      }
      return { removed, cacheEntries: entries, kept: keep.size, dryRun };
    });
    if (args.flags.json) console.log(JSON.stringify(result));
    else {log(
        `${dryRun ? "would remove" : "removed"} ${result.removed.length} artefact(s), ` +
          `${result.cacheEntries} cache entr(ies); ${result.kept} referenced artefact(s) kept`,
      );}
  });
}
