/** Params shared by the validate and test stages (evaluation only changes speed, not results). */
import { z } from "zod";
import { BACKEND_CHOICES, type BackendChoice } from "../engine/choices.ts";
import { backendFacts, resolveBackend } from "../engine/probe.ts";

export const EvalParamsShape = {
  /** Images per embedding batch. */
  batch_size: z.number().int().min(1).default(256),
  /** Deno workers embedding images in parallel (0: in this thread). */
  workers: z.number().int().min(0).max(64).default(2),
  backend: z.enum(BACKEND_CHOICES).default("auto"),
  margin: z.number().min(0).default(0.2),
};

export const VOLATILE_EVAL_PARAMS = ["batch_size", "workers"] as const;

export async function evalRuntimeFacts(params: { backend: BackendChoice }) {
  return backendFacts(await resolveBackend(params.backend));
}
