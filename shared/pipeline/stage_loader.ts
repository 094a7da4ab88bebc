/** Loads stage definitions from <root>/stages/<name>.ts. */
import { join } from "node:path";
import { toFileUrl } from "../util/file_url.ts";
import type { StageDefinition } from "../stage/contract.ts";

export function stageModulePath(root: string, uses: string): string {
  return join(root, "stages", `${uses}.ts`);
}

export async function loadStage(root: string, uses: string): Promise<StageDefinition> {
  const path = stageModulePath(root, uses);
  let module: { default?: unknown };
  try {
    module = await import(toFileUrl(path).href);
  } catch (error) {
    if (error instanceof TypeError && /Module not found/.test(error.message)) {
      throw new Deno.errors.NotFound(`Cannot load stage "${uses}": ${path} does not exist`);
    }
    throw error;
  }
  const definition = module.default as StageDefinition | undefined;
  if (
    !definition || typeof definition.run !== "function" || typeof definition.name !== "string" ||
    !definition.params || !Array.isArray(definition.inputs) || !Array.isArray(definition.outputs)
  ) {
    throw new TypeError(
      `Cannot load stage "${uses}": ${path} must "export default defineStage({...})"`,
    );
  }
  return definition;
}
