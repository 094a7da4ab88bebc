/**
 * A check of the project's store before work is handed to other machines: a misspelt bucket or
 * refused credentials fail here, on the submitting machine, rather than in the first job that
 * runs (after it waited in a queue).
 */
import { S3Store } from "../store/s3_store.ts";
import type { Project } from "./project.ts";

export async function probeStore(project: Project, action: string): Promise<void> {
  if (!(project.store instanceof S3Store)) return;
  try {
    await project.store.probe();
  } catch (error) {
    throw new Error(
      `Cannot ${action}: the store ${project.storeUrl} is not usable: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
