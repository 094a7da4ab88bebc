/** Where a project keeps its manifests, stages, store, cache and run records. */
import { join } from "node:path";
import { LocalStore } from "../store/local_store.ts";
import type { ArtefactStore } from "../store/store.ts";

export interface Project {
  readonly root: string;
  readonly store: ArtefactStore;
  readonly cacheDir: string;
  readonly locksDir: string;
  readonly runsDir: string;
  /** Per cache key, resumable scratch space of stage runs in progress. */
  readonly workDir: string;
}

/** The project rooted at `root` (default: CSN_ROOT, else the working directory). */
export function openProject(root = Deno.env.get("CSN_ROOT") ?? Deno.cwd()): Project {
  return {
    root,
    store: new LocalStore(join(root, "data", "store")),
    cacheDir: join(root, "data", "cache"),
    locksDir: join(root, "data", "locks"),
    runsDir: join(root, "runs"),
    workDir: join(root, "data", "work"),
  };
}
