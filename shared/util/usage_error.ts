/**
 * A command used wrongly: an unknown flag, param or stage, or a value of the wrong type. Every
 * command exits 2 on it (1 for other failures). It lives in util so that the pipeline layer,
 * which validates `--set` params, can raise it without importing the CLI.
 */
export class UsageError extends Error {
  override name = "UsageError";
}
