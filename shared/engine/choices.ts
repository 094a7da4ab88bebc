/**
 * The engine's backend vocabulary, free of TensorFlow.js so that stage definitions and
 * `status` can load it without paying for tfjs. A tuple `as const`, so that a schema built
 * from it (z.enum) gives the literal type and no caller casts.
 */

/** In the order `auto` tries them. */
export const BACKEND_CHOICES = ["auto", "tensorflow", "webgpu", "native", "wasm", "cpu"] as const;

export type BackendChoice = typeof BACKEND_CHOICES[number];
export type ConcreteBackend = Exclude<BackendChoice, "auto">;

/** The oneDNN backend's name: the choice, and the tfjs backend its kernels register under. */
export const NATIVE = "native" satisfies ConcreteBackend;
