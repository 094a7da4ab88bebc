/** The --store flag shared by pipeline, stage, status, gc, push and pull. */
import { openProject, type Project } from "../pipeline/project.ts";
import type { FlagSpec } from "./args.ts";

export const STORE_FLAG: FlagSpec = {
  value: true,
  help: "artefact store: local or s3://bucket/prefix (default: CSN_STORE, else local)",
};

export function projectWithStore(flags: Readonly<Record<string, string[]>>): Project {
  return openProject(undefined, flags.store?.[0]);
}
