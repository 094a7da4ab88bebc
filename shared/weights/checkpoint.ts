/**
 * Training checkpoints as one safetensors file: the model's state_dict (PyTorch names and
 * layouts, loadable with `safetensors.torch.load_file` + `load_state_dict(strict=False)`),
 * the Adam moments under "optimizer.<param>.exp_avg[_sq]", and string metadata: epoch, step,
 * RNG state, the model config and the resolved params (JSON).
 */
import { CsnModel, type ModelConfig } from "../model/csn.ts";
import type { Adam } from "../model/optim.ts";
import type { SafeTensor } from "./dtype.ts";
import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
import { exportState, importState } from "./state_dict.ts";
import { exportAdamState, importAdamState } from "./adam_state.ts";
import { modelConfigOf } from "../artefacts/checkpoint_meta.ts";

const OPT = "optimizer.";

export interface CheckpointMeta {
  /** Epochs completed. */
  readonly epoch: number;
  /** Optimiser steps taken (equals the Adam step when an optimiser is saved). */
  readonly step: number;
  /** Opaque state of the caller's data RNG (e.g. JSON of its words). */
  readonly rng: string;
  /** Resolved params of the run, echoed back on load. */
  readonly params: unknown;
  /** Per finished epoch, its training summary (no timings: resumed bytes stay identical). */
  readonly history?: unknown;
}

export async function encodeCheckpoint(
  model: CsnModel,
  optimiser: Adam | null,
  meta: CheckpointMeta,
): Promise<Uint8Array> {
  const tensors = await exportState(model);
  if (optimiser) {
    for (const [name, t] of await exportAdamState(optimiser)) tensors.set(OPT + name, t);
  }
  return encodeSafetensors(tensors, {
    format: "pt",
    "csn.model": JSON.stringify(model.config),
    "csn.epoch": String(meta.epoch),
    "csn.step": String(meta.step),
    "csn.adam_step": String(optimiser?.step ?? 0),
    "csn.rng": meta.rng,
    "csn.params": JSON.stringify(meta.params),
    ...(meta.history === undefined ? {} : { "csn.history": JSON.stringify(meta.history) }),
  });
}

export interface DecodedCheckpoint {
  readonly config: ModelConfig;
  readonly meta: CheckpointMeta;
  readonly adamStep: number;
  readonly weights: Map<string, SafeTensor>;
  readonly optimiser: Map<string, SafeTensor>;
}

/** Parses a checkpoint without building anything; `source` names the file in errors. */
export function decodeCheckpoint(bytes: Uint8Array, source: string): DecodedCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const field = (key: string) => {
    const v = metadata[key];
    if (v === undefined) {
      // Without csn.model it is some other safetensors file, e.g. weights saved elsewhere.
      const what = key === "csn.model"
        ? " (not a csn checkpoint, which records its model there: a safetensors file of " +
          "weights alone?)"
        : "";
      throw new SyntaxError(
        `Cannot read checkpoint "${source}": metadata "${key}" is missing${what}`,
      );
    }
    return v;
  };
  const int = (key: string) => {
    const v = Number(field(key));
    if (!Number.isInteger(v) || v < 0) {
      throw new SyntaxError(
        `Cannot read checkpoint "${source}": metadata "${key}" is "${field(key)}", ` +
          `expected a non-negative integer`,
      );
    }
    return v;
  };
  const json = (key: string) => {
    const text = field(key); // a missing field is its own error, not a JSON one
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new SyntaxError(
        `Cannot read checkpoint "${source}": metadata "${key}" is not JSON (${
          (e as Error).message
        })`,
      );
    }
  };
  const weights = new Map<string, SafeTensor>();
  const optimiser = new Map<string, SafeTensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith(OPT)) optimiser.set(name.slice(OPT.length), t);
    else weights.set(name, t);
  }
  return {
    config: modelConfigOf(json("csn.model"), source),
    meta: {
      epoch: int("csn.epoch"),
      step: int("csn.step"),
      rng: field("csn.rng"),
      params: json("csn.params"),
      ...(metadata["csn.history"] === undefined ? {} : { history: json("csn.history") }),
    },
    adamStep: int("csn.adam_step"),
    weights,
    optimiser,
  };
}

/** Builds the checkpoint's model with its weights (strict). The caller disposes it. */
export function modelFromCheckpoint(ckpt: DecodedCheckpoint, source: string): CsnModel {
  const model = new CsnModel(ckpt.config);
  try {
    importState(model, ckpt.weights, { strict: true, source });
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** Restores Adam's moments and step, for an exact resume. */
export function restoreOptimiser(optimiser: Adam, ckpt: DecodedCheckpoint): void {
  importAdamState(optimiser, ckpt.optimiser, ckpt.adamStep);
}
