/**
 * Whether a process on this host still runs, for the store's sweep of dead writers' drafts.
 * Deno grants /proc only to --allow-all, which the tasks do not have, so this falls back to
 * libc's kill(pid, 0) through FFI (the stage tasks allow FFI); undefined when neither is
 * allowed.
 */

/** true/false when known; undefined when this process may not look. */
export function processAlive(pid: number): boolean | undefined {
  return fromProc(pid) ?? fromKill(pid);
}

/** /proc/PID/stat: a killed process stays listed as a zombie (state Z) until reaped. */
function fromProc(pid: number): boolean | undefined {
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    if (error instanceof Deno.errors.NotCapable) return undefined;
    throw error;
  }
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

let libc: { kill(pid: number, signal: number): number } | null | undefined;

/** kill(pid, 0) = 0 when the process exists (a zombie counts as alive: the safe side). */
function fromKill(pid: number): boolean | undefined {
  if (libc === undefined) {
    try {
      libc = Deno.dlopen("libc.so.6", { kill: { parameters: ["i32", "i32"], result: "i32" } })
        .symbols;
    } catch (error) {
      // No FFI permission, or not glibc: the caller falls back to the draft's age.
      if (!(error instanceof Error)) throw error;
      libc = null;
    }
  }
  return libc ? libc.kill(pid, 0) === 0 : undefined;
}
