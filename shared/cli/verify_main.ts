/**
 * deno task verify [--store URL] [--full] [--json]: checks every artefact of a store and sets
 * the damaged ones aside (the local store's damaged/ folder, the bucket's damaged/ notes), so
 * that the next run rebuilds them or a push from a machine with good bytes puts them back.
 * Exits 1 when it found damage.
 */
import { type FlagSpec, log, main, parseArgs, usage } from "./args.ts";
import { UsageError } from "../util/usage_error.ts";
import { projectWithStore, STORE_FLAG } from "./store_flag.ts";

const FLAGS: Record<string, FlagSpec> = {
  store: STORE_FLAG,
  full: { value: false, help: "rehash every byte (default: sizes, mtimes or ETags)" },
  json: { value: false, help: "print one JSON object on stdout" },
  help: { value: false, help: "show this help" },
};

if (import.meta.main) {
  await main(async () => {
    const args = parseArgs(Deno.args, FLAGS);
    if (args.flags.help) {
      console.log(usage("verify [flags]", "Checks a store; sets damaged artefacts aside.", FLAGS));
      return 0;
    }
    if (args.positional.length > 0) {
      throw new UsageError(
        `Cannot verify: unexpected argument "${args.positional[0]}", it takes only flags`,
      );
    }
    const project = projectWithStore(args.flags);
    const mode = args.flags.full ? "full" : "fast";
    const ids = await project.store.list();
    const damaged: { id: string; problem: string }[] = [];
    for (const id of ids) {
      const check = await project.store.verify(id, mode);
      if (check.intact) continue;
      damaged.push({ id, problem: check.problem });
      log(`verify: ${id} is damaged (${check.problem}); set aside`);
      await project.store.quarantine(id, check.problem);
    }
    const result = { store: project.storeUrl, mode, checked: ids.length, damaged };
    if (args.flags.json) console.log(JSON.stringify(result));
    else {
      log(
        `verify: ${ids.length} artefact(s) of ${project.storeUrl} checked (${mode}), ` +
          `${damaged.length} damaged${damaged.length ? " and set aside" : ""}`,
      );
    }
    return damaged.length > 0 ? 1 : 0;
  });
}
