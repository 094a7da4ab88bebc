/**
 * The engine's backend vocabulary, free of TensorFlow.js so that stage definitions and
 * `status` can load it without paying for tfjs.
 */

export type BackendChoice = "auto" | "tensorflow" | "webgpu" | "native" | "wasm" | "cpu";
/** In the order `auto` tries them. */
export const BACKEND_CHOICES: readonly BackendChoice[] = [
  "auto",
  "tensorflow",
  "webgpu",
  "native",
  "wasm",
  "cpu",
];

export type ConcreteBackend = Exclude<BackendChoice, "auto">;
