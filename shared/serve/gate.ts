/**
 * A bound on requests in flight: past `limit` they wait in order, past `queue` waiting they
 * are turned away (503), so a burst neither crashes the server nor grows without bound.
 */
import { Limiter } from "../util/limit.ts";
import { HttpError } from "./http_error.ts";

export class Gate {
  readonly #limiter: Limiter;

  constructor(readonly limit: number, readonly queue: number) {
    if (!Number.isInteger(queue) || queue < 0) {
      throw new RangeError(`Cannot queue ${queue} requests: expected an integer >= 0`);
    }
    this.#limiter = new Limiter(limit);
  }

  get active(): number {
    return this.#limiter.active;
  }

  get waiting(): number {
    return this.#limiter.waiting;
  }

  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit && this.waiting >= this.queue) {
      throw new HttpError(
        503,
        `Cannot serve the request now: ${this.active} are in flight and ${this.queue} ` +
          `waiting (the bound); retry shortly`,
      );
    }
    return this.#limiter.run(task);
  }
}
