/**
 * Training progress on stderr: a redrawn bar on a terminal, plain periodic lines otherwise
 * (CI logs, pipes). Pure formatting is separate from the writer so it can be tested.
 */

export interface ProgressState {
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly tripletsPerSecond: number;
  /** Seconds since this epoch started. */
  readonly elapsed: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

export function formatProgress(state: ProgressState, width = 24): string {
  const fraction = state.steps > 0 ? Math.min(1, state.step / state.steps) : 0;
  const filled = Math.round(fraction * width);
  const bar = "#".repeat(filled) + "-".repeat(width - filled);
  const eta = fraction > 0 ? (state.elapsed * (1 - fraction)) / fraction : NaN;
  return `epoch ${state.epoch}/${state.epochs} [${bar}] ${state.step}/${state.steps} ` +
    `loss ${state.loss.toFixed(4)} acc ${(100 * state.accuracy).toFixed(1)}% ` +
    `${state.tripletsPerSecond.toFixed(0)} triplets/s ETA ${formatDuration(eta)}`;
}

export class ProgressReporter {
  #lastLine = 0;
  readonly #tty: boolean;

  constructor(
    private readonly write: (text: string) => void = (text) =>
      Deno.stderr.writeSync(new TextEncoder().encode(text)),
    tty = Deno.stderr.isTerminal(),
    private readonly plainEverySeconds = 10,
  ) {
    this.#tty = tty;
  }

  update(state: ProgressState, force = false): void {
    if (this.#tty) {
      this.write(`\r\x1b[2K${formatProgress(state)}`);
      return;
    }
    const now = performance.now() / 1000;
    if (force || now - this.#lastLine >= this.plainEverySeconds) {
      this.#lastLine = now;
      this.write(`${formatProgress(state)}\n`);
    }
  }

  /** Ends a redrawn line so later logs start on their own line. */
  done(): void {
    if (this.#tty) this.write("\n");
  }
}
